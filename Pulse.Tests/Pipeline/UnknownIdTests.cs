using System.Diagnostics;
using System.Net;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// Ids that are not events cost no statement (docs/design.md §10): joins, REST and dashboard GETs and POSTs of
/// random ids are answered "not found" from the in-memory event ids, over real sockets, with
/// PostgreSQL's own statement counts (<c>pg_stat_statements</c>) as the judge.
/// </summary>
// Serial: 2,000 requests over 20 connections, judged against a catalog re-read rate per wall-clock second.
[Collection(SerialPipeline.Name)]
[Trait("Category", "socket")] public sealed class UnknownIdTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int Requests = 2000;
    private const int Connections = 20;

    // The catalogs' re-reads (Storage/EventCatalog.cs, ApiKeyStore.cs): an unknown id may cause one
    // re-read of the event ids a second in total, and a key in use one re-read of the keys a second.
    private const string EventIdsRead = "SELECT id FROM events";
    private const string KeysRead = "SELECT key_hash FROM api_keys WHERE revoked_at IS NULL";

    [Theory]
    [InlineData("join")]
    [InlineData("rest")]
    [InlineData("dashboard")]
    [InlineData("post")]
    public async Task RandomIds_TwoThousandOverTwentyConnections_AllNotFoundAndNoStatementBeyondOneCatalogReadASecond(string route)
    {
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromHours(1));
        await database.CreateEventAsync("Real", start, end, ("A", "#a"), ("B", "#b"));
        await using var statements = await StatementCounter.OpenAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var sockets = new Sockets();
        Func<int, Task<int>> send = route switch
        {
            "join" => await sockets.JoinsAsync(server),
            "rest" => _ => StatusAsync(server.Client, HttpMethod.Get, $"/v1/events/{Guid.NewGuid()}", "{\"error\":\"event not found\"}"),
            "dashboard" => _ => StatusAsync(server.Client, HttpMethod.Get, $"/events/{Guid.NewGuid()}", "<h1>Not found</h1>"),
            _ => _ => StatusAsync(server.Client, HttpMethod.Post, "/v1/events", "{\"error\":\"event not found\"}", Http.Api.PostBody(Guid.NewGuid(), "tweet")),
        };

        // Warm: the first request of each connection opens it. The test's API key was created after the
        // server started: its NOTIFY's re-read of the keys must be over before counting starts.
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(send));
        Assert.Equal(404, await StatusAsync(server.Client, HttpMethod.Get, $"/v1/events/{Guid.NewGuid()}", "{\"error\":\"event not found\"}"));
        await Task.Delay(300);
        await Task.WhenAll(server.Server.Keys.Copy.WhenIdle(), server.Server.Events.Copy.WhenIdle());
        var before = await statements.ByStatementAsync();
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, Connections).Select(async c =>
        {
            var statuses = new List<int>(Requests / Connections);
            for (int i = 0; i < Requests / Connections; i++)
            {
                statuses.Add(await send(c));
            }

            return statuses;
        }));
        var took = clock.Elapsed;

        // One tick more: a statement caused by the flood but run later would show.
        await Task.Delay(700);
        var after = await statements.ByStatementAsync();
        long Grown(string sql) => after.GetValueOrDefault(sql) - before.GetValueOrDefault(sql);
        long eventReads = Grown(EventIdsRead);
        long keyReads = Grown(KeysRead);
        // The counter's own readings mention pg_stat_statements (see StatementCounter).
        long others = after.Where(p => !p.Key.Contains("pg_stat_statements", StringComparison.Ordinal)).Sum(p => p.Value - before.GetValueOrDefault(p.Key)) - eventReads - keyReads;
        var flat = answers.SelectMany(a => a).ToList();
        output.WriteLine($"{route}: {flat.Count} random ids on {Connections} connections in {took.TotalMilliseconds:F0} ms; statements: event-id re-reads {eventReads}, key re-reads {keyReads}, others {others}");
        Console.WriteLine($"[unknown ids] {route}: {flat.Count} random ids in {took.TotalMilliseconds:F0} ms -> {others} statements (+ {eventReads} event-id and {keyReads} key re-reads)");

        Assert.Equal(Requests, flat.Count);
        Assert.All(flat, status => Assert.Equal(404, status));
        Assert.True(others == 0, $"{others} statements ran for ids that are not events:\n{StatementCounter.Growth(before, after)}");

        // At most one a second, counted over the flood and the tick after it (both ends may hold one).
        long perSecond = (long)Math.Ceiling((took + TimeSpan.FromMilliseconds(700)).TotalSeconds) + 1;
        Assert.InRange(eventReads, 0, perSecond);
        Assert.InRange(keyReads, 0, route is "rest" or "post" ? perSecond : 0);
        Assert.Equal(0, server.Server.Snapshots.EntryCount);
    }

    private static async Task<int> StatusAsync(HttpClient client, HttpMethod method, string path, string expectedBody, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.NotFound && text.Contains(expectedBody, StringComparison.Ordinal) ? 404 : (int)response.StatusCode;
    }

    /// <summary>The join route's 20 sockets; a join's answer as a status (404 for <c>{"reason":"not found"}</c>), so every route is judged alike.</summary>
    private sealed class Sockets : IAsyncDisposable
    {
        private PhoenixClient[] _clients = [];

        public async Task<Func<int, Task<int>>> JoinsAsync(TestServer server)
        {
            _clients = await Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => PhoenixClient.ConnectAsync(server.WebSocketUri())));
            return async c =>
            {
                var reply = await _clients[c].JoinAsync(PipelineKit.Topic(Guid.NewGuid()), timeout: PipelineKit.ReplyTimeout);
                var reason = reply.Payload.GetProperty("response").GetProperty("reason").GetString();
                return reply.Status == "error" && reason == "not found" ? 404 : 500;
            };
        }

        public async ValueTask DisposeAsync() => await Task.WhenAll(_clients.Select(c => c.DisposeAsync().AsTask()));
    }
}
