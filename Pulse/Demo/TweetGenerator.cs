namespace Pulse.Demo;

/// <summary>
/// Makes up tweets for the live battle: Poisson arrivals per side in proportion to the side's weight,
/// "goal" bursts on one side at a time, and a few tweets carrying two hashtags (of one side, which
/// must count once, or of two rival sides, which counts for both) so the counting rules are exercised.
/// </summary>
/// <remarks>Not thread-safe: one simulator owns it.</remarks>
internal sealed class TweetGenerator(IReadOnlyList<DemoKeyword[]> sides, IReadOnlyList<double> weights, Random random)
{
    /// <summary>History runs at half the live rate, so the live part of the chart stands out.</summary>
    private const double HistoryScale = 0.5;

    /// <summary>One tweet in 16 names a second hashtag.</summary>
    private const double SecondHashtagChance = 1.0 / 16;

    private static readonly string[] Phrases =
    [
        "What a goal!", "Unbelievable save", "Come on!", "That was never a penalty", "Ref!!!",
        "Best match of the season", "Here we go", "Incredible atmosphere tonight", "Get in!", "Pure class",
    ];

    private readonly double[] _burstFactor = [.. weights.Select(_ => 1.0)];
    private readonly DateTime[] _burstUntil = new DateTime[weights.Count];

    /// <summary>Tweets for every minute from <paramref name="from"/> to <paramref name="now"/>, one batch per minute.</summary>
    public IEnumerable<TweetBatch> History(DateTime from, DateTime now, int rate)
    {
        var batch = new TweetBatch();
        for (var minute = from; minute < now; minute = minute.AddMinutes(1))
        {
            batch.Clear();
            double span = Math.Min(1.0, (now - minute).TotalMinutes);

            // A slow swell over the half hour, with a "goal minute" now and then for one side.
            double wave = 0.6 + (0.3 * Math.Sin((minute - from).TotalMinutes / 4.0)) + (0.2 * random.NextDouble());
            int goalSide = random.NextDouble() < 0.12 ? PickSide() : -1;
            for (int side = 0; side < sides.Count; side++)
            {
                double lambda = rate * 60 * HistoryScale * weights[side] * wave * span * (side == goalSide ? 4 : 1);
                for (int n = Poisson(lambda); n > 0; n--)
                {
                    AddTweet(batch, side, minute.AddTicks((long)(random.NextDouble() * span * TimeSpan.TicksPerMinute)));
                }
            }

            yield return batch;
        }
    }

    /// <summary>Adds the tweets of one <paramref name="period"/> ending at <paramref name="now"/>.</summary>
    public void AddLive(TweetBatch batch, DateTime now, TimeSpan period, int rate)
    {
        // On average one burst every 20 s: a chance of period/20 s per period.
        if (random.NextDouble() < period.TotalSeconds / 20)
        {
            int side = PickSide();
            _burstFactor[side] = 3 + (3 * random.NextDouble());
            _burstUntil[side] = now.AddSeconds(2 + (3 * random.NextDouble()));
        }

        for (int side = 0; side < sides.Count; side++)
        {
            double factor = now < _burstUntil[side] ? _burstFactor[side] : 1;
            for (int n = Poisson(rate * period.TotalSeconds * weights[side] * factor); n > 0; n--)
            {
                AddTweet(batch, side, now.AddTicks(-(long)(random.NextDouble() * period.Ticks)));
            }
        }
    }

    /// <summary>A Poisson sample: Knuth's product method while e^-λ is well above zero, a normal approximation above.</summary>
    internal int Poisson(double lambda)
    {
        if (lambda <= 0)
        {
            return 0;
        }

        if (lambda > 30)
        {
            // Box–Muller; for λ > 30 the normal N(λ, λ) is within a few percent of Poisson(λ).
            double gauss = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return Math.Max(0, (int)Math.Round(lambda + (Math.Sqrt(lambda) * gauss)));
        }

        double limit = Math.Exp(-lambda), product = random.NextDouble();
        int count = 0;
        while (product > limit)
        {
            count++;
            product *= random.NextDouble();
        }

        return count;
    }

    private void AddTweet(TweetBatch batch, int side, DateTime at)
    {
        var own = sides[side];
        var first = own[random.Next(own.Length)];
        var text = Phrases[random.Next(Phrases.Length)];
        if (random.NextDouble() >= SecondHashtagChance)
        {
            batch.Add(at, $"{text} {first.Hashtag}", [first]);
            return;
        }

        // Half the double-tagged tweets name a second hashtag of the same side, half a rival's.
        var other = random.Next(2) == 0 || sides.Count == 1 ? own : sides[(side + 1 + random.Next(sides.Count - 1)) % sides.Count];
        var second = other[random.Next(other.Length)];
        batch.Add(at, $"{text} {first.Hashtag} {second.Hashtag}", second == first ? [first] : [first, second]);
    }

    private int PickSide()
    {
        double pick = random.NextDouble() * weights.Sum();
        for (int side = 0; side < weights.Count; side++)
        {
            pick -= weights[side];
            if (pick < 0)
            {
                return side;
            }
        }

        return weights.Count - 1;
    }
}
