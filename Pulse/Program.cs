using CommandLine;
using Npgsql;
using Pulse.Cli;
using Pulse.Configuration;
using Pulse.Storage;

// Exit codes: 0 done, 1 failed at run time (e.g. the database is unreachable), 2 bad usage or configuration.
if (CliParser.UnknownVerb(args) is { } verb)
{
    Console.Error.WriteLine($"pulse: unknown verb '{verb}'");
    Console.Error.WriteLine(Usage.Text(CliParser.Parse(["--help"], TextWriter.Null)));
    return 2;
}

var result = CliParser.Parse(args, TextWriter.Null);
if (result is NotParsed<object> notParsed)
{
    bool asked = notParsed.Errors.All(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError or ErrorType.VersionRequestedError);
    var text = notParsed.Errors.Any(e => e.Tag == ErrorType.VersionRequestedError)
        ? $"pulse {Commands.Version}"
        : Usage.Text(notParsed);
    (asked ? Console.Out : Console.Error).WriteLine(text);
    return asked ? 0 : 2;
}

if (((Parsed<object>)result).Value is IStrayValue { Stray: { } stray })
{
    Console.Error.WriteLine($"pulse: unexpected argument '{stray}'");
    Console.Error.WriteLine(Usage.Text(CliParser.Parse(["--help"], TextWriter.Null)));
    return 2;
}

try
{
    return await (((Parsed<object>)result).Value switch
    {
        ServeOptions o => Commands.ServeAsync(o),
        MigrateOptions o => Commands.MigrateAsync(o),
        ApiKeyOptions o => Commands.ApiKeyAsync(o),
        DemoOptions o => Pulse.Demo.DemoCommand.RunAsync(o),
        _ => Task.FromResult(2),
    });
}
catch (ConfigurationException e)
{
    Console.Error.WriteLine("pulse: " + e.Message);
    return 2;
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // Kestrel's "Failed to bind to address …: address already in use": a run-time failure to report
    // in one line, not an unhandled exception that aborts the process with a core-dump signal.
    Console.Error.WriteLine("pulse: " + e.Message);
    return 1;
}
catch (DatabaseUnavailableException e)
{
    // Unreachable, or the login refused: one line naming host, port, database and why (Storage/DatabaseFailure.cs).
    Console.Error.WriteLine("pulse: " + e.Message);
    return 1;
}
catch (NpgsqlException e)
{
    // A database error outside the verbs' connection handling (none is known): still one line, never a core dump.
    Console.Error.WriteLine("pulse: database error: " + e.Message.ReplaceLineEndings(" "));
    return 1;
}
