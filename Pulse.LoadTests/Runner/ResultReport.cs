using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using Spectre.Console;

namespace Pulse.LoadTests.Runner;

/// <summary>Prints the final table and writes the same figures as JSON and Markdown.</summary>
internal static class ResultReport
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static LatencySummary Summarize(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        }

        static double Ms(long microseconds) => Math.Round(microseconds / 1000.0, 3);
        return new LatencySummary(
            Ms(histogram.GetValueAtPercentile(50)), Ms(histogram.GetValueAtPercentile(75)),
            Ms(histogram.GetValueAtPercentile(95)), Ms(histogram.GetValueAtPercentile(99)),
            Ms(histogram.GetMaxValue()), histogram.TotalCount);
    }

    public static void Print(ScenarioResult result)
    {
        if (LiveProgress.IsPlain)
        {
            AnsiConsole.Profile.Width = 200; // redirected output defaults to 80 columns and wraps the table
        }

        var table = new Table().Title(result.Scenario + " → " + result.Target);
        string[] heads = ["scenario", "req/s", "ok", "fail", "p50 ms", "p75 ms", "p95 ms", "p99 ms", "max ms"];
        foreach (string head in heads)
        {
            table.AddColumn(head);
        }

        table.AddRow(Row(result).Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
        var figures = new Table().HideHeaders().AddColumn("figure").AddColumn("value");
        foreach (var (name, value) in result.Figures)
        {
            figures.AddRow(Markup.Escape(name), Markup.Escape(value));
        }

        figures.AddRow("tool CPU (s)", result.ToolCpuSeconds.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(figures);
        foreach (var (error, count) in result.Errors)
        {
            AnsiConsole.MarkupLine("[red]error[/] " + Markup.Escape(FormattableString.Invariant($"{count} × {error}")));
        }

        foreach (string failure in result.CheckFailures)
        {
            AnsiConsole.MarkupLine("[red]check failed[/] " + Markup.Escape(failure));
        }

        AnsiConsole.MarkupLine(result.Passed ? "[green]PASS[/]" : "[red]FAIL[/]");
    }

    /// <summary>Writes <c>DIR/scenario-stamp.json</c> and <c>.md</c>; returns the JSON path.</summary>
    public static string Write(ScenarioResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        string stem = Path.Combine(directory, result.Scenario + "-" + result.StartedAt.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(result, JsonOptions));
        File.WriteAllText(stem + ".md", Markdown(result));
        return stem + ".json";
    }

    private static string[] Row(ScenarioResult r) =>
    [
        r.Scenario, F(r.RequestsPerSecond, "F1"), F(r.Ok, "D"), F(r.Fail, "D"),
        F(r.LatencyMs.P50), F(r.LatencyMs.P75), F(r.LatencyMs.P95), F(r.LatencyMs.P99), F(r.LatencyMs.Max),
    ];

    private static string F(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string F(long value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Markdown(ScenarioResult r)
    {
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# {r.Scenario} against {r.Target}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"Started {r.StartedAt:O}, {r.ElapsedSeconds:F1} s of load. Result: **{(r.Passed ? "PASS" : "FAIL")}**.\n\n");
        md.Append("| scenario | req/s | ok | fail | p50 ms | p75 ms | p95 ms | p99 ms | max ms |\n");
        md.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        md.Append("| ").AppendJoin(" | ", Row(r)).Append(" |\n\n");
        md.Append("| figure | value |\n|---|---:|\n");
        foreach (var (name, value) in r.Figures)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {name} | {value} |\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"| tool CPU (s) | {r.ToolCpuSeconds:F2} |\n");
        foreach (var (error, count) in r.Errors)
        {
            md.Append(CultureInfo.InvariantCulture, $"\n- error ×{count}: {error}");
        }

        foreach (string failure in r.CheckFailures)
        {
            md.Append(CultureInfo.InvariantCulture, $"\n- check failed: {failure}");
        }

        return md.Append('\n').ToString();
    }
}
