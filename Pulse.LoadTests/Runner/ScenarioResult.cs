namespace Pulse.LoadTests.Runner;

/// <summary>The final figures of one run (JSON names in snake_case: latency in ms, CPU in seconds), as printed and as written to JSON and Markdown.</summary>
internal sealed record ScenarioResult
{
    public required string Scenario { get; init; }
    public required string Target { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required double ElapsedSeconds { get; init; }
    public required double RequestsPerSecond { get; init; }
    public required long Ok { get; init; }
    public required long Fail { get; init; }
    public required LatencySummary LatencyMs { get; init; }
    /// <summary>Scenario-specific figures, in the order the scenario set them.</summary>
    public required IReadOnlyList<Figure> Figures { get; init; }
    public required IReadOnlyDictionary<string, int> Errors { get; init; }
    public required double ToolCpuSeconds { get; init; }
    /// <summary>Correctness checks that failed (missing deliveries, wrong final numbers, unanswered joins).</summary>
    public required IReadOnlyList<string> CheckFailures { get; init; }
    public bool Passed => Fail == 0 && CheckFailures.Count == 0;
}

/// <summary>One scenario-specific figure, e.g. "deliveries missing" = "0".</summary>
internal sealed record Figure(string Name, string Value);

/// <summary>Latency percentiles in milliseconds (HdrHistogram, 3 significant digits).</summary>
internal sealed record LatencySummary(double P50, double P75, double P95, double P99, double Max, long Count);
