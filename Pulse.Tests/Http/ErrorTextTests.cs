using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pulse.Hosting;
using Pulse.Http;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.Storage;

namespace Pulse.Tests.Http;

/// <summary>
/// docs/design.md §6: no response carries database or exception text (Npgsql's messages name the host, the
/// port and the user; most routes need no key). The details go to the log, rate-limited. Runs the
/// real server in-process on a PostgreSQL cluster of its own, since it stops it.
/// </summary>
[Trait("Category", "socket")] public sealed class ErrorTextTests
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DatabaseStopped_EveryRoute_NoDatabaseOrExceptionTextAndDetailsLoggedOnce()
    {
        await using var postgres = await DedicatedPostgres.StartNewAsync();
        string key;
        Guid cached, uncached;
        await using (var data = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(postgres.Url, 2, 30) + ";Pooling=false"))
        {
            await new Migrator(data).MigrateAsync(databaseTrigger: false, CancellationToken.None);
            key = await ApiKeyStore.CreateAsync(data, "error-text", CancellationToken.None);
            cached = await CreateEventAsync(data, "Cached cup");
            uncached = await CreateEventAsync(data, "Cold cup");
        }

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new CapturingLoggerProvider();
        var server = await StartServerAsync(postgres.Url, time, log);
        await using var cleanup = new AsyncCleanup(async () =>
        {
            await server.StopAsync();
            await server.DisposeAsync();
        });
        using var client = new HttpClient { BaseAddress = new Uri(server.Addresses[0]) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using (var warm = await client.GetAsync(Api.Path($"/v1/events/{cached}")))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await postgres.StopAsync();

        // Every route, with the status it must answer while the database is away. An id the node never
        // computed needs the database; a cached one does not.
        var answers = new List<(string What, HttpStatusCode Status, string Body)>();
        async Task<HttpStatusCode> SendAsync(string what, HttpRequestMessage request)
        {
            using (request)
            using (var response = await client.SendAsync(request))
            {
                answers.Add((what, response.StatusCode, await response.Content.ReadAsStringAsync()));
                return response.StatusCode;
            }
        }

        Task<HttpStatusCode> GetAsync(string path) => SendAsync("GET " + path, new HttpRequestMessage(HttpMethod.Get, path));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync("/readyz"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/healthz"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/metrics"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync("/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync($"/events/{uncached}"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"/events/{cached}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync("/v1/events"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync($"/v1/events/{uncached}"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"/v1/events/{cached}"));

        // A POST of an event this node has never computed: the event catalog in memory knows it, so the
        // notification is taken (204) and held for the database's return.
        var post = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = Api.Json(Api.PostBody(uncached, "goal")) };
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync("POST /v1/events", post));

        // A key the node never saw cannot be checked: 503 (not a 401 that would call a new key bad),
        // never the driver's message.
        var unknownKey = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        unknownKey.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key-this-node-has-seen");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await SendAsync("GET /v1/events (unknown key)", unknownKey));

        // A join of an event never computed here: an error reply.
        await using (var socket = await PhoenixClient.ConnectAsync(new Uri($"ws://{client.BaseAddress!.Authority}/socket/websocket?vsn=2.0.0")))
        {
            var reply = await socket.JoinAsync($"event:{uncached}", timeout: ReplyTimeout);
            Assert.Equal("error", reply.Status);
            answers.Add(("phx_join (uncached event)", HttpStatusCode.OK, reply.Payload.GetRawText()));
        }

        string[] forbidden = ["127.0.0.1", postgres.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "Npgsql", "Exception", "exception", "Failed to connect", "refused", "terminating", "administrator", "stream", "pulse@"];
        Assert.All(answers, a => Assert.All(forbidden, f => Assert.False(a.Body.Contains(f, StringComparison.Ordinal), $"{a.What} ({(int)a.Status}) carries '{f}': {a.Body}")));
        var ready = answers.Single(a => a.What == "GET /readyz");
        Assert.Equal("{\"error\":\"" + HealthEndpoints.DatabaseUnavailable + "\"}", ready.Body);
        Assert.All(answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable && a.What != "GET /readyz" && !a.What.Contains("unknown key", StringComparison.Ordinal)), a => Assert.Equal("{\"error\":\"" + Router.DatabaseUnavailable + "\"}", a.Body));

        // The details are in the log, one line for all the routes that failed, with the exception.
        var failed = log.Entries.Where(e => e.EventId == 2000).ToList();
        var line = Assert.Single(failed);
        Assert.IsAssignableFrom<NpgsqlException>(line.Exception);
        Assert.Single(log.Entries, e => e.EventId == 2002 && e.Exception is not null);

        // Next interval: one more line, counting the failures it did not log.
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync("/v1/events"));
        failed = log.Entries.Where(e => e.EventId == 2000).ToList();
        Assert.Equal(2, failed.Count);
        Assert.DoesNotContain("(0 more", failed[1].Message, StringComparison.Ordinal);
    }

    private static async Task<PulseServer> StartServerAsync(string databaseUrl, TimeProvider time, ILoggerProvider log)
    {
        var options = PulseConfiguration.Load(null, new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0", ["Database:Url"] = databaseUrl }, new Dictionary<string, string?>());
        options.Shutdown.DrainSeconds = 0;
        PulseOptionsValidator.Validate(options);
        var server = PulseServer.Create(options, time, logging => logging.SetMinimumLevel(LogLevel.Warning).AddProvider(log));
        await server.StartAsync();
        return server;
    }

    private static async Task<Guid> CreateEventAsync(NpgsqlDataSource data, string name)
    {
        var id = Guid.NewGuid();
        await using var batch = data.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO events (id, name, start_at, end_at) VALUES ($1, $2, now() - interval '2 hours', now() - interval '1 hour')") { Parameters = { new() { Value = id }, new() { Value = name } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO keywords (event_id, query, name) VALUES ($1, 'Home', '#home')") { Parameters = { new() { Value = id } } });
        await batch.ExecuteNonQueryAsync();
        return id;
    }
}

/// <summary>The database answers, with an error of its own (a table gone): its message stays in the log too.</summary>
[Trait("Category", "socket")] public sealed class ServerErrorTextTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task TableMissing_ListAndUncachedReads_GenericAnswerNotTheServersMessage()
    {
        var (eventId, _) = await database.CreateEventAsync("Renamed cup", DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-1), ("Home", "#home"));
        await using var server = await TestServer.StartAsync(database);
        await database.ExecuteAsync("ALTER TABLE events RENAME TO events_elsewhere");
        try
        {
            foreach (var path in new[] { "/v1/events", $"/v1/events/{eventId}", "/" })
            {
                using var response = await server.Client.GetAsync(Api.Path(path));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{path}: {(int)response.StatusCode} {body}");
                Assert.Equal("{\"error\":\"" + Router.DatabaseUnavailable + "\"}", body);
                Assert.Equal(Api.JsonType, response.Content.Headers.ContentType?.ToString());
            }

            // The database itself answers: ready.
            using var ready = await server.Client.GetAsync(Api.Path("/readyz"));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            await database.ExecuteAsync("ALTER TABLE events_elsewhere RENAME TO events");
        }
    }
}

/// <summary>Keeps every log entry (event id, formatted message, exception) of every category.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, int EventId, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, eventId.Id, formatter(state, exception), exception));
    }
}
