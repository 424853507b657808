using System.Net.Sockets;
using System.Runtime.InteropServices;
using Pulse.Cli;
using Pulse.Configuration;
using Pulse.Hosting;
using Pulse.Storage;

namespace Pulse.Demo;

/// <summary>
/// <c>pulse demo</c>: a throwaway PostgreSQL, the schema, a live battle with half an hour of history
/// and an upcoming one, an API key, the server and a simulated feed; Ctrl-C (SIGINT) or SIGTERM
/// stops all of it in reverse order and removes the folder.
/// </summary>
internal static partial class DemoCommand
{
    public const int MaxRate = 10_000;

    public static async Task<int> RunAsync(DemoOptions o)
    {
        if (o.Rate is < 1 or > MaxRate)
        {
            Console.Error.WriteLine($"pulse demo: --rate must be between 1 and {MaxRate} tweets per second");
            return 2;
        }

        var environment = PulseConfiguration.ProcessEnvironment();

        // Validated before anything starts, so bad --urls leaves nothing behind. A short drain:
        // the demo's browsers are the user's own, and Ctrl-C should feel instant.
        var options = PulseConfiguration.Load(null, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Urls"] = o.Urls ?? "http://127.0.0.1:4000",
            ["Shutdown:DrainSeconds"] = "2",
        }, environment);
        if (PortTaken(options.Urls) is { } taken)
        {
            Console.Error.WriteLine($"pulse demo: {taken} is in use by another program; pass another, e.g. --urls http://127.0.0.1:4001");
            return 1;
        }

        var bin = PostgresBinaries.Find(environment);
        if (bin is null)
        {
            Console.Error.WriteLine(PostgresBinaries.InstallHint);
            return 1;
        }

        // Registered before the first child process: from here on, a signal cancels and the finally
        // blocks below stop what was started (the host registers its own handler once it runs).
        using var stopping = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            await RunAsync(o, options, bin, stopping.Token);
            return 0;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Ctrl-C during start-up: everything started is stopped by now.
            return 0;
        }
        catch (DemoException e)
        {
            Console.Error.WriteLine("pulse demo: " + e.Message);
            return 1;
        }
        catch (DatabaseUnavailableException e)
        {
            // Its own cluster started but does not take the login (e.g. a --data folder kept from an
            // earlier demo whose pg_hba.conf was changed), or stopped answering.
            Console.Error.WriteLine("pulse demo: " + e.Message);
            return 1;
        }
    }

    private static async Task RunAsync(DemoOptions o, PulseOptions options, string bin, CancellationToken stopping)
    {
        var time = TimeProvider.System;
        var folder = o.Data ?? Path.Combine(Environment.CurrentDirectory, ".pulse-demo");
        await using var postgres = new ThrowawayPostgres(bin, folder, o.Keep, Console.Out);
        await postgres.StartAsync(stopping);
        options.Database.Url = postgres.Url;

        // The demo's own pool stands for the background jobs: a separate client of the database.
        await using var jobs = PulseDatabase.Create(new DatabaseOptions { Url = postgres.Url, PoolSize = 4 });
        Seeded seeded;
        try
        {
            await new Migrator(jobs).MigrateAsync(false, stopping);
            seeded = await SeedAsync(jobs, o.Rate, time, stopping);
        }
        catch (Exception e) when (DatabaseFailure.Is(e))
        {
            throw DatabaseFailure.Describe(jobs.ConnectionString, e);
        }

        await using var server = PulseServer.Create(options, time, Logging);
        try
        {
            await server.StartAsync(stopping);
        }
        catch (IOException e)
        {
            // Taken between the check above and now.
            throw new DemoException(e.Message);
        }

        var baseUrl = Browsable(server.Addresses[0]);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(5) };
        using var feedStop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var feed = new TweetSimulator(jobs, http, seeded.ApiKey, seeded.EventId, seeded.EndAt, seeded.Generator, o.Rate, time,
            server.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pulse.Demo")).RunAsync(feedStop.Token);
        try
        {
            PrintWelcome(baseUrl, seeded.EventId, seeded.ApiKey, o.Rate, postgres.Folder, o.Keep);
            await server.WaitForShutdownAsync(stopping);
        }
        finally
        {
            Console.Out.WriteLine("stopping: feed, server, PostgreSQL …");
            await feedStop.CancelAsync();
            await feed;
        }
    }

    /// <summary>
    /// The first URL whose port another program holds; checked before PostgreSQL starts, so a busy
    /// port costs a second, not an initdb.
    /// </summary>
    private static string? PortTaken(string urls)
    {
        foreach (var endpoint in ListenUrls.Parse(urls).Where(e => e.Port != 0))
        {
            try
            {
                using var probe = new TcpListener(endpoint);
                probe.Start();
            }
            catch (SocketException)
            {
                return endpoint.ToString();
            }
        }

        return null;
    }

    /// <summary>A URL a browser on this machine can open: a wildcard bind is reached on loopback.</summary>
    internal static string Browsable(string address) => address
        .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
        .Replace("://[::]", "://[::1]", StringComparison.Ordinal)
        .TrimEnd('/');

    private static void Logging(ILoggingBuilder logging)
    {
        // Warnings only: the demo's console is for the URL and the key, not for start-up chatter.
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        logging.SetMinimumLevel(LogLevel.Warning);

        // A failed start is reported in one line by RunAsync; the host's own report is a stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
    }
}
