using System.Diagnostics.Metrics;

namespace Pulse.Diagnostics;

/// <summary>
/// Pulse's instruments on one <see cref="System.Diagnostics.Metrics.Meter"/> named <c>"Pulse"</c>, owned by
/// one server: two servers in one process (tests) count apart, and nothing here is static.
/// </summary>
/// <remarks>
/// The instrument names are the Prometheus names of docs/design.md §6 themselves, so <see cref="PrometheusExporter"/>
/// writes them unchanged and <c>dotnet-counters monitor -n pulse --counters Pulse</c> shows the same names.
/// Cost on a hot path: with no listener an instrument's <c>Add</c> is one check of an empty list; with the
/// exporter listening, one delegate call and one interlocked add. No tags, so no allocation.
/// Thread safety: every method may be called from any thread.
/// </remarks>
internal sealed partial class PulseMetrics : IDisposable
{
    public const string MeterName = "Pulse";

    public const string Connections = "pulse_connections";
    public const string ChannelJoinsTotal = "pulse_channel_joins_total";
    public const string NotificationsTotal = "pulse_notifications_total";
    public const string ComputationsTotal = "pulse_computations_total";
    public const string BroadcastFramesTotal = "pulse_broadcast_frames_total";
    public const string FramesSkippedTotal = "pulse_frames_skipped_total";
    public const string DatabaseErrorsTotal = "pulse_database_errors_total";
    public const string ComputationSeconds = "pulse_computation_seconds";
    public const string CountDriftTotal = "pulse_count_drift_total";
    public const string CountingRecords = "pulse_counting_entries";
    public const string CountingBytes = "pulse_counting_bytes";

    // From 1 ms (a delta tick on a warm event) to 2.5 s (a cold 1,000,000-row event is budgeted at 2 s, docs/design.md §10).
    private static readonly double[] ComputationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _channelJoins;
    private readonly Counter<long> _notifications;
    private readonly Counter<long> _computations;
    private readonly Counter<long> _broadcastFrames;
    private readonly Counter<long> _framesSkipped;
    private readonly Counter<long> _databaseErrors;
    private readonly Histogram<double> _computationSeconds;
    private readonly Counter<long> _countDrift;
    private Func<(long Records, long Bytes)> _countingTotals = static () => (0, 0);

    public PulseMetrics()
    {
        // Created in the order /metrics lists them.
        Meter = new Meter(MeterName);
        _connections = Meter.CreateUpDownCounter<long>(Connections, description: "Open WebSocket connections.");
        _channelJoins = Meter.CreateCounter<long>(ChannelJoinsTotal, description: "Channel joins answered ok.");
        _notifications = Meter.CreateCounter<long>(NotificationsTotal, description: "Notifications taken (POST and LISTEN).");
        _computations = Meter.CreateCounter<long>(ComputationsTotal, description: "View-model computations run.");
        _broadcastFrames = Meter.CreateCounter<long>(BroadcastFramesTotal, description: "Broadcast frames offered to subscribers.");
        _framesSkipped = Meter.CreateCounter<long>(FramesSkippedTotal, description: "Frames replaced by a newer one before a slow socket took them.");
        _databaseErrors = Meter.CreateCounter<long>(DatabaseErrorsTotal, description: "Failed database calls.");
        _computationSeconds = Meter.CreateHistogram(
            ComputationSeconds, "s", "Time to compute one view model (a grouped delta read counts once, its wait for the round in flight included).", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = ComputationBuckets });
        _countDrift = Meter.CreateCounter<long>(CountDriftTotal, description: "(side, entry) records a verification found wrong in the incremental counts, and repaired.");
        Meter.CreateObservableGauge(CountingRecords, () => _countingTotals().Records, "{entry}", "(side, entry) records held by the counting states of all events.");
        Meter.CreateObservableGauge(CountingBytes, () => _countingTotals().Bytes, "By", "Bytes held by the counting states of all events.");
        CreateProcessInstruments();
    }

    /// <summary>The meter every instrument of this server is on; the exporter listens to this one only.</summary>
    public Meter Meter { get; }

    public void ConnectionOpened() => _connections.Add(1);

    public void ConnectionClosed() => _connections.Add(-1);

    public void ChannelJoined() => _channelJoins.Add(1);

    public void NotificationTaken() => _notifications.Add(1);

    /// <summary>One view-model computation ended (successfully or not) after <paramref name="elapsed"/>.</summary>
    public void Computed(TimeSpan elapsed)
    {
        _computations.Add(1);
        _computationSeconds.Record(elapsed.TotalSeconds);
    }

    /// <summary>One broadcast offered its frame to <paramref name="subscribers"/> subscribers.</summary>
    public void FramesOffered(int subscribers) => _broadcastFrames.Add(subscribers);

    public void FrameSkipped() => _framesSkipped.Add(1);

    public void DatabaseError() => _databaseErrors.Add(1);

    /// <summary>A verification found <paramref name="records"/> (side, entry) records wrong.</summary>
    public void CountDrift(long records) => _countDrift.Add(records);

    /// <summary>Where the counting gauges read their figures (the snapshot service, once built).</summary>
    public void ObserveCounting(Func<(long Records, long Bytes)> totals) => _countingTotals = totals;

    public void Dispose() => Meter.Dispose();
}
