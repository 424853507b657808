using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Pulse.LoadTests.Runner;

/// <summary>
/// What a scenario counts while it runs: ok/fail, a latency histogram in microseconds, and
/// named figures for its own table columns. Safe to update from any thread.
/// </summary>
internal sealed class ScenarioStats
{
    /// <summary>1 µs to 5 minutes at 3 significant digits: about 0.1 % error on every percentile.</summary>
    public static LongConcurrentHistogram NewHistogram() => new(1, 300_000_000, 3);

    private long _ok;
    private long _fail;

    public LongConcurrentHistogram Latency { get; } = NewHistogram();

    /// <summary>Scenario-specific figures in insertion order (name → value as shown).</summary>
    public ConcurrentDictionary<string, string> Figures { get; } = new();

    public List<string> FigureOrder { get; } = [];

    /// <summary>Errors by message, so a run that fails says why.</summary>
    public ConcurrentDictionary<string, int> Errors { get; } = new();

    public long Ok => Interlocked.Read(ref _ok);
    public long Fail => Interlocked.Read(ref _fail);

    /// <summary>Wall time the load ran, for requests/s; set by the scenario.</summary>
    public TimeSpan Elapsed { get; set; }

    public void RecordOk(long startedAt, long endedAt)
    {
        Interlocked.Increment(ref _ok);
        Latency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(startedAt, endedAt).TotalMicroseconds));
    }

    public void RecordOkMicroseconds(long microseconds)
    {
        Interlocked.Increment(ref _ok);
        Latency.RecordValue(Math.Clamp(microseconds, 1, 300_000_000));
    }

    public void AddOk(long count) => Interlocked.Add(ref _ok, count);

    public void RecordFail(string reason)
    {
        Interlocked.Increment(ref _fail);
        Errors.AddOrUpdate(reason, 1, (_, n) => n + 1);
    }

    public void AddFail(long count, string reason)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref _fail, count);
        Errors.AddOrUpdate(reason, (int)count, (_, n) => n + (int)count);
    }

    public void SetFigure(string name, string value)
    {
        lock (FigureOrder)
        {
            if (!FigureOrder.Contains(name))
            {
                FigureOrder.Add(name);
            }
        }

        Figures[name] = value;
    }

    /// <summary>A short live line for the progress display.</summary>
    public string LiveLine { get; set; } = "";
}
