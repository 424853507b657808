using System.Text.Json.Serialization;

namespace Pulse.LoadTests.Runner;

/// <summary>The final figures of one run, as printed and as written to JSON and Markdown.</summary>
internal sealed record ScenarioResult
{
    public required string Scenario { get; init; }
    public required string Target { get; init; }
    [JsonPropertyName("started_at")]
    public required DateTimeOffset StartedAt { get; init; }
    [JsonPropertyName("elapsed_seconds")]
    public required double ElapsedSeconds { get; init; }
    [JsonPropertyName("requests_per_second")]
    public required double RequestsPerSecond { get; init; }
    public required long Ok { get; init; }
    public required long Fail { get; init; }
    [JsonPropertyName("latency_ms")]
    public required LatencySummary Latency { get; init; }
    /// <summary>Scenario-specific figures, in the order the scenario set them.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Figures { get; init; }
    public required IReadOnlyDictionary<string, int> Errors { get; init; }
    [JsonPropertyName("tool_cpu_seconds")]
    public required double ToolCpuSeconds { get; init; }
    /// <summary>Correctness checks that failed (missing deliveries, wrong final numbers, unanswered joins).</summary>
    [JsonPropertyName("check_failures")]
    public required IReadOnlyList<string> CheckFailures { get; init; }
    public bool Passed => Fail == 0 && CheckFailures.Count == 0;
}

internal sealed record LatencySummary(double P50, double P75, double P95, double P99, double Max, long Count);
