using System.Diagnostics.CodeAnalysis;
using CommandLine;

namespace Pulse.Cli;

// CommandLineParser reads these classes by reflection. The DynamicDependency attributes on
// CliParser.Parse keep every member alive under trimming; the classes stay mutable (setters),
// which is what the library needs. All verbs live in this one file so the list stays complete.

/// <summary>Options every verb that touches the database takes.</summary>
internal abstract class CommonOptions
{
    [Option("config", HelpText = "A JSON configuration file (see pulse.example.json).")]
    public string? Config { get; set; }

    [Option("database-url", HelpText = "PostgreSQL: postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=FILE (user and password percent-encoded) or an Npgsql keyword string. Env: DATABASE_URL.")]
    public string? DatabaseUrl { get; set; }
}

[Verb("serve", isDefault: true, HelpText = "Run the server (the default verb).")]
internal sealed class ServeOptions : CommonOptions, IStrayValue
{
    [Value(0, MetaName = "unexpected", Hidden = true)]
    public string? Stray { get; set; }

    [Option("urls", HelpText = "Where to listen, ;-separated. Default http://0.0.0.0:4000.")]
    public string? Urls { get; set; }
}

[Verb("migrate", HelpText = "Create or upgrade the schema; idempotent.")]
internal sealed class MigrateOptions : CommonOptions, IStrayValue
{
    [Value(0, MetaName = "unexpected", Hidden = true)]
    public string? Stray { get; set; }
}

[Verb("api-key", HelpText = "Manage API keys: api-key create --name NAME.")]
internal sealed class ApiKeyOptions : CommonOptions, IStrayValue
{
    [Value(0, MetaName = "action", Required = true, HelpText = "create")]
    public string Action { get; set; } = string.Empty;

    [Value(1, MetaName = "unexpected", Hidden = true)]
    public string? Stray { get; set; }

    [Option("name", HelpText = "A name for the key (who uses it).")]
    public string? Name { get; set; }
}

[Verb("demo", HelpText = "Throwaway local PostgreSQL, a demo battle, a live feed and the dashboard. Ctrl-C stops all of it.")]
internal sealed class DemoOptions : IStrayValue
{
    [Value(0, MetaName = "unexpected", Hidden = true)]
    public string? Stray { get; set; }

    [Option("urls", HelpText = "Where to listen. Default http://127.0.0.1:4000.")]
    public string? Urls { get; set; }

    [Option("keep", HelpText = "Keep the throwaway database folder on exit.")]
    public bool Keep { get; set; }

    [Option("data", HelpText = "The folder for the throwaway PostgreSQL. Default ./.pulse-demo.")]
    public string? Data { get; set; }

    [Option("rate", Default = 20, HelpText = "Simulated tweets per second (bursts on top).")]
    public int Rate { get; set; } = 20;
}

/// <summary>
/// A positional argument the verb has no use for. CommandLineParser reports unknown options but
/// silently drops stray values (<c>pulse serve extra</c>); each verb catches the first one here so
/// Program can refuse it with exit 2.
/// </summary>
internal interface IStrayValue
{
    string? Stray { get; }
}

internal static class CliParser
{
    // The verbs above plus CommandLineParser's built-in ones.
    private static readonly string[] Verbs = ["serve", "migrate", "api-key", "demo", "help", "version"];

    /// <summary>
    /// The first argument when it is a word but no verb. With a default verb, CommandLineParser
    /// hands <c>pulse frobnicate</c> to <c>serve</c> and ignores the stray value, so a typo'd verb
    /// would start a server; this catches it before parsing.
    /// </summary>
    public static string? UnknownVerb(string[] args) =>
        args.Length > 0 && !args[0].StartsWith('-') && !Verbs.Contains(args[0], StringComparer.Ordinal) ? args[0] : null;

    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(CommonOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(ServeOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(MigrateOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(ApiKeyOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(DemoOptions))]
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Every options type is kept by the DynamicDependency attributes above.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "The options types are known and kept; no generic instantiation over unknown types.")]
    public static ParserResult<object> Parse(string[] args, TextWriter helpWriter)
    {
        using var parser = new Parser(s =>
        {
            s.HelpWriter = helpWriter;
            s.CaseSensitive = true;
            s.AutoHelp = true;
            s.AutoVersion = true;
        });
        return parser.ParseArguments(args, typeof(ServeOptions), typeof(MigrateOptions), typeof(ApiKeyOptions), typeof(DemoOptions));
    }
}
