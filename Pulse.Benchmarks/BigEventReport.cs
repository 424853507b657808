using System.Globalization;
using System.Text;

namespace Pulse.Benchmarks;

/// <summary>One size of the big-event measurement: its links, entries, generation time and rounds.</summary>
internal sealed record BigEventSize(int Links, int Entries, double GenerationSeconds, IReadOnlyList<BigEventRound> Rounds);

/// <summary>The big-event figures as Markdown: medians of the rounds with the before/after ratios, then every round.</summary>
internal static class BigEventReport
{
    /// <summary>One round as a console line.</summary>
    public static string RoundLine(int size, BigEventRound r, string load) => string.Create(
        CultureInfo.InvariantCulture,
        $"  {size:N0} round {r.Round} (load {load}): before {r.BeforeDbMs:F1} / {r.BeforeWallMs:F1} ms; after cold {r.ColdDbMs:F1} / {r.ColdWallMs:F1} ms; "
        + $"after tick {r.TickDbMs:F2} / {r.TickWallMs:F2} ms ({r.DeltaRows} links), with jit on {r.TickWithJitDbMs:F2} ms, planning {r.TickPlanningMs:F2} ms; verify {r.VerifyWallMs:F1} ms; "
        + $"{r.BytesPerRecord:F1} B/record × {r.Records:N0}; exact {(r.Exact ? "yes" : "NO: " + r.Failures)}");

    /// <summary>The medians table, the ratios, and every round.</summary>
    public static string Markdown(IReadOnlyList<BigEventSize> sizes)
    {
        var text = new StringBuilder();
        Line(text, "| links | before: tick = cold, DB ms | before wall ms | after cold DB ms | after cold wall ms | after tick DB ms | after tick wall ms | verification wall ms | bytes/record (records) | exact | tick DB ms with jit on / tick planning ms |");
        Line(text, "|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in sizes)
        {
            var r = s.Rounds;
            Line(text, $"| {s.Links:N0} | {Median(r, x => x.BeforeDbMs):N1} | {Median(r, x => x.BeforeWallMs):N1} | {Median(r, x => x.ColdDbMs):N1} | {Median(r, x => x.ColdWallMs):N1} "
                + $"| {Median(r, x => x.TickDbMs):N2} | {Median(r, x => x.TickWallMs):N2} | {Median(r, x => x.VerifyWallMs):N1} "
                + $"| {Median(r, x => x.BytesPerRecord):N1} ({r[^1].Records:N0}) | {Exact(r)} | {Median(r, x => x.TickWithJitDbMs):N2} / {Median(r, x => x.TickPlanningMs):N2} |");
        }

        Line(text, "");
        Line(text, "| links | tick before/after, DB | tick before/after, wall | cold before/after, DB | cold before/after, wall | generation s |");
        Line(text, "|---|---|---|---|---|---|");
        foreach (var s in sizes)
        {
            var r = s.Rounds;
            double beforeDb = Median(r, x => x.BeforeDbMs);
            double beforeWall = Median(r, x => x.BeforeWallMs);
            Line(text, $"| {s.Links:N0} | {Ratio(beforeDb, Median(r, x => x.TickDbMs))} | {Ratio(beforeWall, Median(r, x => x.TickWallMs))} "
                + $"| {Ratio(beforeDb, Median(r, x => x.ColdDbMs))} | {Ratio(beforeWall, Median(r, x => x.ColdWallMs))} | {s.GenerationSeconds:N1} |");
        }

        Line(text, "");
        Line(text, "| links | round | before DB | before wall | after cold DB | after cold wall | after tick DB | after tick wall | links in delta | tick DB with jit on / planning | verification wall | bytes/record | exact |");
        Line(text, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in sizes)
        {
            foreach (var x in s.Rounds)
            {
                Line(text, $"| {s.Links:N0} | {x.Round} | {x.BeforeDbMs:N1} | {x.BeforeWallMs:N1} | {x.ColdDbMs:N1} | {x.ColdWallMs:N1} | {x.TickDbMs:N2} | {x.TickWallMs:N2} "
                    + $"| {x.DeltaRows} | {x.TickWithJitDbMs:N2} / {x.TickPlanningMs:N2} | {x.VerifyWallMs:N1} | {x.BytesPerRecord:N1} | {(x.Exact ? "yes" : "no: " + x.Failures)} |");
            }
        }

        return text.ToString();
    }

    /// <summary>The middle value (the mean of the two middle ones for an even count).</summary>
    public static double Median(IReadOnlyList<BigEventRound> rounds, Func<BigEventRound, double> figure)
    {
        var values = rounds.Select(figure).Order().ToArray();
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static string Exact(IReadOnlyList<BigEventRound> rounds) =>
        rounds.All(r => r.Exact) ? $"yes ({rounds.Count}/{rounds.Count})" : $"**no** ({rounds.Count(r => r.Exact)}/{rounds.Count})";

    private static string Ratio(double before, double after) =>
        after <= 0 ? "—" : string.Create(CultureInfo.InvariantCulture, $"{before / after:N1}×");

    private static void Line(StringBuilder text, FormattableString line) =>
        text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');
}
