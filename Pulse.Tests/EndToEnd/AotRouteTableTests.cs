using System.Net;
using System.Net.Http.Headers;
using Pulse.Tests.Http;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// Every row of docs/design.md §6 against the published binary over real HTTP: the in-process API tests go
/// deeper; this proves the AOT build (trimming, source-generated JSON and binding) behaves the same.
/// </summary>
[Trait("Category", "binary")] public sealed class AotRouteTableTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task RouteTable_AgainstBinary_EveryStatusAsWritten()
    {
        var key = await database.CreateApiKeyAsync("route-table");
        var start = DateTime.UtcNow.AddMinutes(-5);
        var (eventId, keywords) = await database.CreateEventAsync("Route table", start, start.AddHours(1), ("A", "#a"), ("B", "#b"));
        int port = PulseProcess.FreePort();
        var env = new Dictionary<string, string> { ["DATABASE_URL"] = database.Url, ["PULSE_Http__MaxBodyBytes"] = "2048", ["PULSE_Shutdown__DrainSeconds"] = "0" };
        using var server = PulseProcess.Start(env, "serve", "--urls", $"http://127.0.0.1:{port}");
        var drained = server.StandardOutput.ReadToEndAsync();
        try
        {
            using var anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            using var client = new HttpClient { BaseAddress = anonymous.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            await AotBinaryTests.WaitHealthyAsync(anonymous, server);

            // GET /v1/events/{id}: 200 + cache headers, 304, 400, 401, 404.
            using (var ok = await client.GetAsync(Api.Path($"/v1/events/{eventId}")))
            {
                var body = await Api.JsonAsync(ok, HttpStatusCode.OK);
                Assert.Equal(0, body.GetProperty("total").GetInt32());
                Assert.Equal("max-age=3", ok.Headers.CacheControl?.ToString());
                Assert.False(ok.Headers.ETag!.IsWeak);
                using var conditional = new HttpRequestMessage(HttpMethod.Get, Api.Path($"/v1/events/{eventId}"));
                conditional.Headers.IfNoneMatch.Add(ok.Headers.ETag);
                using var notModified = await client.SendAsync(conditional);
                Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            }

            await Api.ErrorAsync(await client.GetAsync(Api.Path("/v1/events/not-a-uuid")), HttpStatusCode.BadRequest);
            await Api.ErrorAsync(await anonymous.GetAsync(Api.Path($"/v1/events/{eventId}")), HttpStatusCode.Unauthorized);
            await Api.ErrorAsync(await client.GetAsync(Api.Path($"/v1/events/{Guid.NewGuid()}")), HttpStatusCode.NotFound);
            await Api.JsonAsync(await anonymous.GetAsync(Api.Path($"/v1/events/{eventId}?api_key={key}")), HttpStatusCode.OK);

            // POST /v1/events: 204 then the numbers change; 400, 401, 404, 413.
            await database.InsertEntryAsync(DateTime.UtcNow.AddSeconds(-1), keywords["#a"]);
            using (var posted = await client.PostAsync(Api.Path("/v1/events"), Api.Json(Api.PostBody(eventId, "new_tweets"))))
            {
                Assert.Equal(HttpStatusCode.NoContent, posted.StatusCode);
            }

            var (after, _) = await Api.PollEventAsync(client, eventId, b => b.GetProperty("total").GetInt32() == 1);
            Assert.Equal(1, after.GetProperty("total").GetInt32());
            await Api.ErrorAsync(await client.PostAsync(Api.Path("/v1/events"), Api.Json("{not json")), HttpStatusCode.BadRequest);
            await Api.ErrorAsync(await client.PostAsync(Api.Path("/v1/events"), Api.Json(Api.PostBody(eventId, "phx_join"))), HttpStatusCode.BadRequest);
            await Api.ErrorAsync(await anonymous.PostAsync(Api.Path("/v1/events"), Api.Json(Api.PostBody(eventId, "x"))), HttpStatusCode.Unauthorized);
            await Api.ErrorAsync(await client.PostAsync(Api.Path("/v1/events"), Api.Json(Api.PostBody(Guid.NewGuid(), "x"))), HttpStatusCode.NotFound);
            var tooLarge = Api.PostBody(eventId, "x") + new string(' ', 2049);
            await Api.ErrorAsync(await client.PostAsync(Api.Path("/v1/events"), new StringContent(tooLarge, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge);

            // GET /v1/events: 200 list, 400 bad paging, 401.
            var list = await Api.JsonAsync(await client.GetAsync(Api.Path("/v1/events?page=1&per_page=200")), HttpStatusCode.OK);
            Assert.Contains(list.GetProperty("events").EnumerateArray(), e => e.GetProperty("id").GetString() == eventId.ToString());
            await Api.ErrorAsync(await client.GetAsync(Api.Path("/v1/events?per_page=201")), HttpStatusCode.BadRequest);
            await Api.ErrorAsync(await anonymous.GetAsync(Api.Path("/v1/events")), HttpStatusCode.Unauthorized);

            // Probes and pages.
            await Api.JsonAsync(await anonymous.GetAsync(Api.Path("/readyz")), HttpStatusCode.OK);
            var metrics = await anonymous.GetStringAsync(Api.Path("/metrics"));
            foreach (var name in new[] { "pulse_connections", "pulse_channel_joins_total", "pulse_notifications_total", "pulse_computations_total", "pulse_computation_seconds", "pulse_broadcast_frames_total", "pulse_database_errors_total" })
            {
                Assert.Contains(name, metrics, StringComparison.Ordinal);
            }

            using var index = await anonymous.GetAsync(Api.Path("/"));
            Assert.Equal("text/html; charset=utf-8", index.Content.Headers.ContentType?.ToString());
            Assert.Contains("Route table", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var page = await anonymous.GetAsync(Api.Path($"/events/{eventId}"));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using var script = await anonymous.GetAsync(Api.Path("/app.js"));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            using var missing = await anonymous.GetAsync(Api.Path("/no/such/page"));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
        finally
        {
            PulseProcess.Terminate(server);
            await server.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
            _ = await drained;
        }

        Assert.Equal(0, server.ExitCode);
    }
}
