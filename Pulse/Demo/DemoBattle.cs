namespace Pulse.Demo;

/// <summary>One side of a battle: its query text, its hashtags and how loud it is compared to the others.</summary>
internal sealed record DemoSide(string Query, string[] Hashtags, double Weight);

/// <summary>A battle as the demo creates it; keyword ids come back from the database.</summary>
internal sealed record DemoBattle(string Name, DateTime StartAt, DateTime EndAt, IReadOnlyList<DemoSide> Sides)
{
    /// <summary>
    /// The live battle: three sides of unequal weight (0.50 / 0.35 / 0.15, so the share bar is uneven),
    /// from 30 minutes ago (on a minute boundary, so the chart starts on a whole minute) to 90 ahead.
    /// </summary>
    public static DemoBattle Live(DateTime now)
    {
        var minute = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
        var start = minute.AddMinutes(-30);
        return new DemoBattle("Barça vs Madrid", start, start.AddHours(2),
        [
            new DemoSide("Barça", ["#ForçaBarça", "#Barça", "#Culers", "#ViscaElBarça"], 0.50),
            new DemoSide("Madrid", ["#HalaMadrid", "#RealMadrid", "#Madridistas"], 0.35),
            new DemoSide("Atleti", ["#AúpaAtleti", "#Atleti"], 0.15),
        ]);
    }

    /// <summary>The upcoming one, so the list page has more than one row; no tweets yet.</summary>
    public static DemoBattle Upcoming(DateTime now)
    {
        var minute = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerHour), DateTimeKind.Utc);
        var start = minute.AddHours(3);
        return new DemoBattle("Liverpool vs Everton", start, start.AddHours(2),
        [
            new DemoSide("Liverpool", ["#LFC", "#YNWA"], 0.6),
            new DemoSide("Everton", ["#EFC", "#COYB"], 0.4),
        ]);
    }
}
