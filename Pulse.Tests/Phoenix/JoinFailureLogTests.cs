using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Pulse.Hosting;
using Pulse.Http;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.WebSockets;
using Xunit.Abstractions;

namespace Pulse.Tests.Phoenix;

/// <summary>
/// Issue 10 (7): during a database failure every join fails the same way. Each still gets its error reply,
/// with Phoenix's generic reason and nothing of the failure; the log gets one line, not a stack trace a join.
/// </summary>
[Trait("Category", "socket")] public sealed class JoinFailureLogTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int Sockets = 10;
    private const int JoinsPerSocket = 100;

    [Fact]
    public async Task Join_1000WhileTheCountingStatementFails_EachGenericErrorOneLogLineThenRecovered()
    {
        var (eventId, _) = await WireScenario.RunningEventAsync(database);
        string topic = $"event:{eventId}";
        var logs = new CapturedLogs();
        var server = await StartAsync(logs);
        try
        {
            await JoinWhileFailingThenOnceMoreAsync(server, topic, logs);
        }
        finally
        {
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }

    private async Task JoinWhileFailingThenOnceMoreAsync(PulseServer server, string topic, CapturedLogs logs)
    {

        // The statement of every join fails (the event is not cached: no join has read it yet), as in an
        // outage, but with a server message that names the database's own objects.
        await database.ExecuteAsync("ALTER TABLE uniq_entry_keywords RENAME TO uniq_entry_keywords_away");
        var replies = new ConcurrentBag<string>();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Sockets).Select(async s =>
            {
                using var peer = await RawClient.ConnectAsync(new Uri(server.Addresses[0]).Port);
                await peer.UpgradeAsync();
                await peer.SendAsync(ClientFrames.Concat([.. Enumerable.Range(0, JoinsPerSocket).Select(j =>
                    ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"{s}-{j}\",\"{s}-{j}\",\"{topic}\",\"phx_join\",{{}}]")))]));
                for (int j = 0; j < JoinsPerSocket; j++)
                {
                    replies.Add(Encoding.UTF8.GetString((await peer.ReadFrameAsync()).Payload));
                }
            }));
        }
        finally
        {
            await database.ExecuteAsync("ALTER TABLE uniq_entry_keywords_away RENAME TO uniq_entry_keywords");
        }

        Assert.Equal(Sockets * JoinsPerSocket, replies.Count);
        Assert.All(replies, r => Assert.Matches("""^\["\d+-\d+","\d+-\d+","event:[0-9a-f-]{36}","phx_reply",\{"status":"error","response":\{"reason":"join crashed"\}\}\]$""", r));

        // The database works again: the next join succeeds and says so in the log, once.
        using (var peer = await RawClient.ConnectAsync(new Uri(server.Addresses[0]).Port))
        {
            await peer.UpgradeAsync();
            await peer.SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"ok\",\"ok\",\"{topic}\",\"phx_join\",{{}}]")));
            using var reply = JsonDocument.Parse((await peer.ReadFrameAsync()).Payload);
            Assert.Equal("ok", reply.RootElement[4].GetProperty("status").GetString());
        }

        var lines = logs.Entries.ToList();
        lines.ForEach(l => output.WriteLine($"{l.Level} {l.EventId} {l.Category}: {l.Message}{(l.Exception is null ? string.Empty : " + stack trace")}"));
        // The joins' lines: one for the failures, one for the recovery (the rest of the log is start-up and,
        // on a loaded machine, the ticker's lateness). No stack trace anywhere; before, 1,000 of them.
        var joinLines = lines.Where(l => l.Category.StartsWith("Pulse.Phoenix", StringComparison.Ordinal)).ToList();
        Assert.Equal([4003, 4008], joinLines.Select(l => l.EventId));
        Assert.Contains("uniq_entry_keywords", joinLines[0].Message, StringComparison.Ordinal); // the details are in the log
        Assert.Contains($"{(Sockets * JoinsPerSocket) - 1} failures", joinLines[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Exception is not null);
        Assert.InRange(lines.Count, 1, 10);
    }

    private async Task<PulseServer> StartAsync(CapturedLogs logs)
    {
        var options = PulseConfiguration.Load(null, new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0", ["Database:Url"] = database.Url }, new Dictionary<string, string?>());
        options.Shutdown.DrainSeconds = 0;
        PulseOptionsValidator.Validate(options);
        var server = PulseServer.Create(options, null, logging => logging.SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft", LogLevel.Warning).AddProvider(logs));
        await server.StartAsync();
        return server;
    }

    /// <summary>Every log entry of the server, formatted.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, int EventId, string Message, Exception? Exception)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((category, logLevel, eventId.Id, formatter(state, exception), exception));
        }
    }
}
