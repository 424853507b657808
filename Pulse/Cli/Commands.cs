using Npgsql;
using Pulse.Configuration;
using Pulse.Hosting;
using Pulse.Storage;

namespace Pulse.Cli;

/// <summary>What each verb does; Program only dispatches here.</summary>
internal static class Commands
{
    // As long as the first LISTEN may take (PulseServer.FirstListenTimeout): a host that drops packets
    // delays the start by this much, not by Npgsql's 15 s connect timeout, before serving with /readyz 503.
    private static readonly TimeSpan StartupCheckTimeout = TimeSpan.FromSeconds(5);

    public static async Task<int> ServeAsync(ServeOptions o)
    {
        var options = Load(o, o.Urls);
        await using var server = PulseServer.Create(options);
        await CheckDatabaseAsync(server.DataSource);
        await server.StartAsync();
        Console.Out.WriteLine($"pulse {Version} listening on {string.Join(", ", server.Addresses)}");
        // SIGTERM/SIGINT: the host stops, the drain closes the sockets over Shutdown:DrainSeconds.
        await server.WaitForShutdownAsync();
        await server.StopAsync();
        return 0;
    }

    public static async Task<int> MigrateAsync(MigrateOptions o)
    {
        var options = Load(o, urls: null);
        await using var dataSource = PulseDatabase.Create(options.Database);
        var applied = await UsingAsync(dataSource, () => new Migrator(dataSource).MigrateAsync(options.Notifications.DatabaseTrigger, CancellationToken.None));
        Console.Out.WriteLine(applied.Count == 0 ? "schema up to date" : $"applied {string.Join(", ", applied)}");
        Console.Out.WriteLine(options.Notifications.DatabaseTrigger ? "database trigger installed on uniq_entry_keywords" : "database trigger absent (Notifications:DatabaseTrigger=false)");
        return 0;
    }

    public static async Task<int> ApiKeyAsync(ApiKeyOptions o)
    {
        if (o.Action != "create")
        {
            Console.Error.WriteLine($"pulse api-key: unknown action '{o.Action}' (expected: create --name NAME)");
            return 2;
        }

        if (string.IsNullOrWhiteSpace(o.Name))
        {
            Console.Error.WriteLine("pulse api-key create: --name is required");
            return 2;
        }

        var options = Load(o, urls: null);
        await using var dataSource = PulseDatabase.Create(options.Database);
        var key = await UsingAsync(dataSource, () => ApiKeyStore.CreateAsync(dataSource, o.Name, CancellationToken.None));
        Console.Out.WriteLine($"created API key '{o.Name}'; it is shown once, only its hash is stored:");
        Console.Out.WriteLine(key);
        return 0;
    }

    /// <summary>
    /// <c>serve</c> started while the database is down starts anyway (docs/design.md §9, docs/operations.md):
    /// <c>/healthz</c> 200, <c>/readyz</c> 503 until the database answers, then it recovers by itself,
    /// as it does from an outage while running, so a node restarted during a failover is not lost to a
    /// supervisor's restart backoff. A database that refuses the login (password, pg_hba.conf, TLS
    /// verification, no such database) will not change its mind by waiting: that stops serve with one
    /// line and exit 1, before anything listens.
    /// </summary>
    private static async Task CheckDatabaseAsync(NpgsqlDataSource dataSource)
    {
        using var timeout = new CancellationTokenSource(StartupCheckTimeout);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
        }
        catch (Exception e) when (DatabaseFailure.Is(e) || (e is OperationCanceledException && timeout.IsCancellationRequested))
        {
            var failure = DatabaseFailure.Describe(dataSource.ConnectionString, e);
            if (DatabaseFailure.IsRefusal(e))
            {
                throw failure;
            }

            Console.Error.WriteLine($"pulse: {failure.Message}; serving anyway, /readyz answers 503 until the database answers");
        }
    }

    /// <summary>Runs the verb's database work; a database that cannot be used becomes one line (Program prints it, exit 1).</summary>
    private static async Task<T> UsingAsync<T>(NpgsqlDataSource dataSource, Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (DatabaseFailure.Is(e))
        {
            throw DatabaseFailure.Describe(dataSource.ConnectionString, e);
        }
    }

    public static string Version => typeof(Commands).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    internal static PulseOptions Load(CommonOptions o, string? urls)
    {
        var commandLine = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (urls is not null)
        {
            commandLine["Urls"] = urls;
        }

        if (o.DatabaseUrl is not null)
        {
            commandLine["Database:Url"] = o.DatabaseUrl;
        }

        return PulseConfiguration.Load(o.Config, commandLine, PulseConfiguration.ProcessEnvironment());
    }
}
