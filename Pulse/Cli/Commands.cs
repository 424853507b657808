using Pulse.Configuration;
using Pulse.Http;
using Pulse.Storage;

namespace Pulse.Cli;

/// <summary>What each verb does; Program only dispatches here.</summary>
internal static class Commands
{
    public static async Task<int> ServeAsync(ServeOptions o)
    {
        var options = Load(o, o.Urls);
        await using var server = PulseServer.Create(options);
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
        var applied = await new Migrator(dataSource).MigrateAsync(options.Notifications.DatabaseTrigger, CancellationToken.None);
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
        var key = await ApiKeyStore.CreateAsync(dataSource, o.Name, CancellationToken.None);
        Console.Out.WriteLine($"created API key '{o.Name}'; it is shown once, only its hash is stored:");
        Console.Out.WriteLine(key);
        return 0;
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
