using Microsoft.Extensions.Configuration;

namespace Pulse.Configuration;

/// <summary>
/// Loads <see cref="PulseOptions"/>: defaults &lt; config file &lt; environment &lt; command line.
/// </summary>
internal static class PulseConfiguration
{
    /// <summary>Prefix of Pulse's own environment variables: <c>PULSE_Broadcast__TickMilliseconds</c>.</summary>
    public const string EnvironmentPrefix = "PULSE_";

    /// <param name="configFile">A JSON file (<c>--config</c>); must exist when given.</param>
    /// <param name="commandLine">Keys set on the command line (<c>--urls</c> → <c>Urls</c>), highest precedence.</param>
    /// <param name="environment">The process environment; tests pass their own.</param>
    public static PulseOptions Load(string? configFile, IReadOnlyDictionary<string, string?> commandLine, IReadOnlyDictionary<string, string?> environment)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
            {
                throw new ConfigurationException("--config", $"file '{configFile}' does not exist");
            }

            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        builder.AddInMemoryCollection(FromEnvironment(environment));
        builder.AddInMemoryCollection(commandLine);

        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ConfigurationException("--config", OneLine(e.Message));
        }

        // The binder silently skips a plain string where a list is expected, which here would
        // mean "any origin allowed"; refuse it so the operator learns the list syntax.
        if (!string.IsNullOrEmpty(root["WebSocket:AllowedOrigins"]))
        {
            throw new ConfigurationException("WebSocket:AllowedOrigins", "is a list: set WebSocket:AllowedOrigins:0, :1, … (environment PULSE_WebSocket__AllowedOrigins__0, …; JSON an array)");
        }

        var options = new PulseOptions();
        try
        {
            root.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // The generated binder says "Failed to convert configuration value '…' at 'Section:Key' to type '…'".
            throw new ConfigurationException(KeyFrom(e.Message), OneLine(e.InnerException?.Message ?? e.Message));
        }

        PulseOptionsValidator.Validate(options);
        return options;
    }

    /// <summary>The process environment as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            result[(string)entry.Key] = entry.Value as string;
        }

        return result;
    }

    /// <summary>
    /// <c>DATABASE_URL</c> and <c>POOL_SIZE</c> (the original deployment's names) first, then
    /// <c>PULSE_*</c>, so an explicit <c>PULSE_Database__Url</c> wins over <c>DATABASE_URL</c>.
    /// </summary>
    private static Dictionary<string, string?> FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (environment.TryGetValue("DATABASE_URL", out var url) && !string.IsNullOrEmpty(url))
        {
            values["Database:Url"] = url;
        }

        if (environment.TryGetValue("POOL_SIZE", out var pool) && !string.IsNullOrEmpty(pool))
        {
            values["Database:PoolSize"] = pool;
        }

        foreach (var (name, value) in environment)
        {
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && name.Length > EnvironmentPrefix.Length)
            {
                values[name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }

        return values;
    }

    private static string KeyFrom(string message)
    {
        int at = message.IndexOf(" at '", StringComparison.Ordinal);
        if (at >= 0)
        {
            int end = message.IndexOf('\'', at + 5);
            if (end > at)
            {
                return message[(at + 5)..end];
            }
        }

        return "configuration";
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
