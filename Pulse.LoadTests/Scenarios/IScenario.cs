namespace Pulse.LoadTests.Scenarios;

/// <summary>A named load scenario. It fills <see cref="ScenarioContext.Stats"/> and <see cref="ScenarioContext.CheckFailures"/>.</summary>
internal interface IScenario
{
    string Name { get; }

    /// <summary>True when the scenario cannot run without <c>--database-url</c>.</summary>
    bool NeedsDatabase { get; }

    Task RunAsync(ScenarioContext context, CancellationToken cancellationToken);
}

internal static class Scenarios
{
    public static readonly IScenario[] All =
        [new ConnectionsScenario(), new FanoutScenario(), new FloodScenario(), new JoinStormScenario(), new RestScenario(),
         new BigEventScenario(), new NotifyScenario()];

    public static IScenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);
}
