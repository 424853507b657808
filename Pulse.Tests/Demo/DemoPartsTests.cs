using Pulse.Demo;

namespace Pulse.Tests.Demo;

[Trait("Category", "unit")] public sealed class DemoPartsTests
{
    private static readonly DateTime Now = new(2026, 11, 27, 20, 30, 20, DateTimeKind.Utc);

    [Fact]
    public void LiveBattle_Now_StartsOnTheMinuteThirtyMinutesAgoAndEndsNinetyAhead()
    {
        var battle = DemoBattle.Live(Now);
        Assert.Equal(new DateTime(2026, 11, 27, 20, 0, 0, DateTimeKind.Utc), battle.StartAt);
        Assert.Equal(new DateTime(2026, 11, 27, 22, 0, 0, DateTimeKind.Utc), battle.EndAt);
        Assert.InRange(battle.Sides.Count, 2, 3);
        Assert.All(battle.Sides, side => Assert.True(side.Hashtags.Length >= 2, side.Query));
        Assert.True(DemoBattle.Upcoming(Now).StartAt > Now);
    }

    [Fact]
    public void History_ThirtyMinutes_FillsEveryMinuteUnevenlyWithSomeDoubleTags()
    {
        var (generator, sides) = Generator(seed: 7);
        var start = DemoBattle.Live(Now).StartAt;
        int minutes = 0, doubles = 0;
        var perSide = new int[sides.Length];
        foreach (var batch in generator.History(start, Now, rate: 20))
        {
            minutes++;
            Assert.True(batch.Count > 0, $"minute {minutes} is empty");
            Assert.All(batch.EntryTimes, at => Assert.InRange(at, start, Now));
            doubles += batch.Hashtags.Count(h => h.Contains(' ', StringComparison.Ordinal));
            foreach (var keyword in batch.LinkKeywordIds)
            {
                perSide[Array.FindIndex(sides, s => s.Any(k => k.Id == keyword))]++;
            }
        }

        Assert.Equal(31, minutes); // 30 whole minutes and the 20 seconds of the current one
        Assert.True(doubles > 0, "some tweets carry two hashtags");
        Assert.True(perSide[0] > perSide[1] && perSide[1] > perSide[2], string.Join(", ", perSide));
    }

    [Fact]
    public void AddLive_ManyPeriods_AveragesTheRateWithBurstsOnTop()
    {
        var (generator, _) = Generator(seed: 11);
        var batch = new TweetBatch();
        var period = TimeSpan.FromMilliseconds(200);
        for (int i = 0; i < 1500; i++)
        {
            generator.AddLive(batch, Now.AddTicks(period.Ticks * i), period, rate: 20);
        }

        // 300 s at 20/s is 6,000 before bursts; a burst (every ~20 s, 2–5 s long, 3–6×) adds up to about half again.
        Assert.InRange(batch.Count, 5_700, 12_000);
        Assert.Equal(batch.Count, batch.EntryIds.Distinct().Count());
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(4)]
    [InlineData(200)]
    public void Poisson_ManySamples_MeanIsLambda(double lambda)
    {
        var (generator, _) = Generator(seed: 3);
        double mean = Enumerable.Range(0, 20_000).Average(_ => generator.Poisson(lambda));
        Assert.InRange(mean, lambda * 0.95, lambda * 1.05);
    }

    [Fact]
    public void NewestDebianBin_SeveralVersions_PicksTheHighestNumerically()
    {
        var root = Directory.CreateTempSubdirectory("pulse-pgbin-");
        try
        {
            foreach (var version in new[] { "9.6", "15", "17", "100-not-a-version" })
            {
                var bin = Directory.CreateDirectory(Path.Combine(root.FullName, version, "bin")).FullName;
                File.WriteAllText(Path.Combine(bin, "initdb"), string.Empty);
                File.WriteAllText(Path.Combine(bin, "pg_ctl"), string.Empty);
            }

            Assert.Equal(Path.Combine(root.FullName, "17", "bin"), PostgresBinaries.NewestDebianBin(root.FullName));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void Find_PgBinWithoutServer_IsNotReplacedByAnotherVersion()
    {
        var env = new Dictionary<string, string?> { ["PG_BIN"] = "/nonexistent", ["PATH"] = "/usr/bin" };
        Assert.Null(PostgresBinaries.Find(env));
    }

    [Theory]
    [InlineData("http://0.0.0.0:4000", "http://127.0.0.1:4000")]
    [InlineData("http://[::]:4000/", "http://[::1]:4000")]
    [InlineData("http://127.0.0.1:4000", "http://127.0.0.1:4000")]
    public void Browsable_WildcardBind_BecomesLoopback(string address, string expected) =>
        Assert.Equal(expected, DemoCommand.Browsable(address));

    private static (TweetGenerator Generator, DemoKeyword[][] Sides) Generator(int seed)
    {
        var battle = DemoBattle.Live(Now);
        var sides = battle.Sides.Select(s => s.Hashtags.Select(h => new DemoKeyword(Guid.NewGuid(), s.Query, h)).ToArray()).ToArray();
        return (new TweetGenerator(sides, [.. battle.Sides.Select(s => s.Weight)], new Random(seed)), sides);
    }
}
