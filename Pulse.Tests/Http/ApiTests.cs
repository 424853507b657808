using System.Net;
using System.Net.Http.Headers;
using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Http.Api;

namespace Pulse.Tests.Http;

/// <summary>Every row of docs/design.md §6 for <c>/v1/events</c> and the probes, over real HTTP.</summary>
[Trait("Category", "socket")] public sealed class ApiTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly DateTime Now = DateTime.UtcNow;

    [Fact]
    public async Task V1_NoKey_Returns401WithWwwAuthenticate()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await client.GetAsync(Path("/v1/events"));
        await ErrorAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task V1_WrongKey_Returns401WithWwwAuthenticate()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.ApiKey + "x");
        using var response = await client.GetAsync(Path("/v1/events"));
        await ErrorAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);

        using var query = await client.PostAsync(Path("/v1/events?api_key=wrong"), Json("{}"));
        await ErrorAsync(query, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task V1_ApiKeyInQuery_Accepted()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await client.GetAsync(Path($"/v1/events?api_key={Uri.EscapeDataString(server.ApiKey)}"));
        await JsonAsync(response, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Post_ValidBody_204ThenGetShowsNewNumbers()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, keywords) = await database.CreateEventAsync("Post", Now.AddHours(-1), Now.AddHours(1), ("#red", "red"), ("#blue", "blue"));
        var (before, etagBefore) = await PollEventAsync(server.Client, id, _ => true);
        Assert.Equal(0, before.GetProperty("total").GetInt64());

        await database.InsertEntryAsync(Now.AddMinutes(-1), keywords["red"]);
        using var post = await server.Client.PostAsync(Path("/v1/events"), Json(PostBody(id, "new_tweet")));
        Assert.Equal(HttpStatusCode.NoContent, post.StatusCode);
        Assert.Empty(await post.Content.ReadAsByteArrayAsync());

        var (after, etagAfter) = await PollEventAsync(server.Client, id, b => b.GetProperty("total").GetInt64() == 1);
        Assert.Equal(1, after.GetProperty("total").GetInt64());
        Assert.Equal(1, after.GetProperty("queries").EnumerateArray().Single(q => q.GetProperty("query").GetString() == "#red").GetProperty("count").GetInt64());
        Assert.NotEqual(etagBefore, etagAfter);
        Assert.True(after.GetProperty("version").GetInt64() > before.GetProperty("version").GetInt64());
    }

    private static string[] MalformedBodies(Guid id) =>
    [
        "not json",
        "",
        "[]",
        $$$"""{"event":"x","payload":{"event_id":"{{{id}}}"}}""",
        $$$"""{"topic":"event:{{{id}}}","payload":{"event_id":"{{{id}}}"}}""",
        $$$"""{"topic":"event:{{{id}}}","event":"x"}""",
        $$$"""{"topic":"event:{{{id}}}","event":"x","payload":{}}""",
        $$$"""{"topic":"event:{{{id}}}","event":"x","payload":{"event_id":"{{{Guid.NewGuid()}}}"}}""",
        $$$"""{"topic":"event:{{{id}}}","event":"x","payload":{"event_id":"nope"}}""",
        $$$"""{"topic":"room:{{{id}}}","event":"x","payload":{"event_id":"{{{id}}}"}}""",
        $$$"""{"topic":"event:nope","event":"x","payload":{"event_id":"nope"}}""",
        $$$"""{"topic":"{{{id}}}","event":"x","payload":{"event_id":"{{{id}}}"}}""",
        $$$"""{"topic":42,"event":"x","payload":{"event_id":"{{{id}}}"}}""",
        PostBody(id, ""),
        PostBody(id, new string('a', 256)),
        PostBody(id, "phx_reply"),
    ];

    [Fact]
    public async Task Post_Malformed_Returns400Json()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Malformed", Now, Now.AddHours(1));
        foreach (var body in MalformedBodies(id))
        {
            using var response = await server.Client.PostAsync(Path("/v1/events"), Json(body));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} for {body}");
            await ErrorAsync(response, HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task Post_NameOf255Characters_Accepted()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Long name", Now, Now.AddHours(1));
        using var response = await server.Client.PostAsync(Path("/v1/events"), Json(PostBody(id, new string('é', 255))));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Post_UnknownEvent_Returns404()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.PostAsync(Path("/v1/events"), Json(PostBody(Guid.NewGuid(), "x")));
        await ErrorAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_KnownEvent_ViewModelWithCacheHeaders()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Get", Now.AddHours(-1), Now.AddHours(1), ("#a", "a"), ("#b", "b"));
        using var response = await server.Client.GetAsync(Path($"/v1/events/{id.ToString().ToUpperInvariant()}"));
        var body = await JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(id.ToString("D"), body.GetProperty("event_id").GetString());
        Assert.Equal("Get", body.GetProperty("name").GetString());
        Assert.Equal(["#a", "#b"], body.GetProperty("queries").EnumerateArray().Select(q => q.GetProperty("query").GetString()));
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.CacheControl?.MaxAge);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
    }

    [Fact]
    public async Task Get_IfNoneMatch_Returns304()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Conditional", Now.AddHours(-1), Now.AddHours(1));
        var (_, etag) = await PollEventAsync(server.Client, id, _ => true);
        Assert.NotNull(etag);
        foreach (var header in new[] { etag.Tag, "W/" + etag.Tag, $"\"other\", {etag.Tag}", "*" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Path($"/v1/events/{id}"));
            request.Headers.TryAddWithoutValidation("If-None-Match", header);
            using var response = await server.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotModified, $"{(int)response.StatusCode} for If-None-Match: {header}");
            Assert.Equal(etag, response.Headers.ETag);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }

        using var other = new HttpRequestMessage(HttpMethod.Get, Path($"/v1/events/{id}"));
        other.Headers.TryAddWithoutValidation("If-None-Match", "\"1-0000000000000000\"");
        using var full = await server.Client.SendAsync(other);
        await JsonAsync(full, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Head_KnownEvent_HeadersWithoutBody()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Head", Now, Now.AddHours(1));
        using var request = new HttpRequestMessage(HttpMethod.Head, Path($"/v1/events/{id}"));
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal(JsonType, response.Content.Headers.ContentType?.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("123")]
    [InlineData("00000000-0000-0000-0000-00000000000g")]
    public async Task Get_BadId_Returns400(string id)
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path($"/v1/events/{id}"));
        await ErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Get_UnknownEvent_Returns404()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path($"/v1/events/{Guid.NewGuid()}"));
        await ErrorAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Healthz_Get_Returns200()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path("/healthz"));
        await JsonAsync(response, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readyz_DatabaseAnswers_Returns200()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path("/readyz"));
        await JsonAsync(response, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readyz_DatabaseUnreachable_Returns503WithReason()
    {
        await using var server = await TestServer.StartAsync(database, o => o.Database.Url = "postgres://pulse@127.0.0.1:1/nowhere");
        using var response = await server.Client.GetAsync(Path("/readyz"));
        var error = await ErrorAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("database", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_DatabaseUnreachable_Returns503Json()
    {
        await using var server = await TestServer.StartAsync(database, o => o.Database.Url = "postgres://pulse@127.0.0.1:1/nowhere");
        foreach (var path in new[] { "/v1/events", $"/v1/events/{Guid.NewGuid()}" })
        {
            using var response = await server.Client.GetAsync(Path(path));
            await ErrorAsync(response, HttpStatusCode.ServiceUnavailable);
        }

        using var post = await server.Client.PostAsync(Path("/v1/events"), Json(PostBody(Guid.NewGuid(), "x")));
        await ErrorAsync(post, HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Metrics_Get_ListsEveryName()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path("/metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        foreach (var (name, type) in new[]
        {
            ("pulse_connections", "gauge"), ("pulse_channel_joins_total", "counter"), ("pulse_notifications_total", "counter"),
            ("pulse_computations_total", "counter"), ("pulse_computation_seconds", "histogram"), ("pulse_broadcast_frames_total", "counter"),
            ("pulse_database_errors_total", "counter"), ("pulse_frames_skipped_total", "counter"),
        })
        {
            Assert.Contains($"# TYPE {name} {type}\n", text, StringComparison.Ordinal);
        }

        Assert.Contains("pulse_computation_seconds_bucket{le=\"+Inf\"} ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_AfterPost_NotificationsCounterGrows()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Metrics", Now, Now.AddHours(1));
        long before = await CounterAsync(server.Client, "pulse_notifications_total");
        using var post = await server.Client.PostAsync(Path("/v1/events"), Json(PostBody(id, "x")));
        Assert.Equal(HttpStatusCode.NoContent, post.StatusCode);

        // The POST goes out as NOTIFY; the counter moves when the node hears it back (LISTEN), a few ms later.
        long after = before;
        for (var deadline = DateTime.UtcNow.AddSeconds(5); after <= before && DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            after = await CounterAsync(server.Client, "pulse_notifications_total");
        }

        Assert.True(after > before, $"pulse_notifications_total stayed at {before}");
    }

    [Fact]
    public async Task Dashboard_Root_ReturnsHtml()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path("/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Dashboard_Root_ListsCurrentEventsHtmlEncoded()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("<b>Derby</b> & co", Now.AddMinutes(-5), Now.AddHours(1));
        var html = await server.Client.GetStringAsync(Path("/"));
        Assert.Contains($"/events/{id}", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;Derby&lt;/b&gt; &amp; co", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Derby", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_EventPage_HtmlForKnownEvent404Otherwise()
    {
        await using var server = await TestServer.StartAsync(database);
        var (id, _) = await database.CreateEventAsync("Page", Now, Now.AddHours(1));
        using var page = await server.Client.GetAsync(Path($"/events/{id}"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains(id.ToString("D"), await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var path in new[] { $"/events/{Guid.NewGuid()}", "/events/nope" })
        {
            using var missing = await server.Client.GetAsync(Path(path));
            Assert.True(missing.StatusCode == HttpStatusCode.NotFound, $"{(int)missing.StatusCode} for {path}");
            Assert.Equal("text/html", missing.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task UnknownRoute_Returns404()
    {
        await using var server = await TestServer.StartAsync(database);
        using var page = await server.Client.GetAsync(Path("/nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        foreach (var path in new[] { "/v1/nowhere", "/v1/events/a/b", "/v1" + "/" })
        {
            using var api = await server.Client.GetAsync(Path(path));
            await ErrorAsync(api, HttpStatusCode.NotFound);
        }
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    public async Task Probe_Post_Returns405(string path)
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.PostAsync(Path(path), Json("{}"));
        await ErrorAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task EventItem_Delete_Returns405()
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.DeleteAsync(Path($"/v1/events/{Guid.NewGuid()}"));
        await ErrorAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    private static async Task<long> CounterAsync(HttpClient client, string name)
    {
        var text = await client.GetStringAsync(Path("/metrics"));
        var line = text.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
