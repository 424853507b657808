using CommandLine;
using Pulse.LoadTests.Cli;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;

using var parser = new Parser(settings =>
{
    settings.HelpWriter = Console.Out;
    settings.CaseInsensitiveEnumValues = true;
});
ParserResult<LoadOptions> parsed = parser.ParseArguments<LoadOptions>(args);
if (parsed is not Parsed<LoadOptions> { Value: { } options })
{
    bool helpOnly = parsed.Errors.All(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.VersionRequestedError);
    return helpOnly ? 0 : 2;
}

options.ApplySmoke();
SubscriberGroup.UpgradeAfterRequest = options.UpgradeAfterRequest;
FileLimits.PreloadAssemblies();
Target target;
try
{
    target = Target.Parse(options.Target, options.AllowRemote);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("pulse-load: " + ex.Message);
    return 2;
}

bool holdsSockets = options.Scenario is "connections" or "fanout" or "join-storm";
int socketsHere = holdsSockets ? (options.IsWorker ? options.Connections : options.Workers > 1 ? 0 : options.Connections) : 0;
if (FileLimits.Check(socketsHere, Math.Max(1, options.Workers)) is { } tooMany)
{
    await Console.Error.WriteLineAsync("pulse-load: " + tooMany);
    return 2;
}

if (options.IsWorker)
{
    return await WorkerHost.RunAsync(options, target);
}

return await ScenarioRunner.RunAsync(options, target);
