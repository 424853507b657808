using System.Diagnostics.Metrics;
using System.Text;

namespace Pulse.Diagnostics;

/// <summary>
/// Collects one server's instruments with a <see cref="MeterListener"/> and writes them as Prometheus text
/// (exposition format 0.0.4): the <c>Pulse</c> meter of that server under the instruments' own names, then
/// the connection counts of that server's Kestrel.
/// </summary>
/// <remarks>
/// Why not OpenTelemetry.Exporter.Prometheus.AspNetCore (1.20.1-beta.1, tried for issue 11): it publishes
/// without AOT warnings and keeps the family names, but every series gains an <c>otel_scope_name</c> label,
/// a <c>target_info</c> family appears, and a counter not yet incremented is left out, so a fresh server
/// would lack <c>pulse_notifications_total</c>, which docs/design.md §6 promises. A listener over the instruments is
/// this file, and brings no SDK into the binary for one text page.
/// A <see cref="MeterListener"/> hears every meter of the process; this one enables only the instruments of
/// its own server's meters (by reference and by <see cref="Meter.Scope"/>), so two servers in one process
/// report apart. Pushed measurements (counters, histograms) are summed as they come; observable ones are read
/// at each scrape. Thread safety: measurements may arrive on any thread; scrapes are serialized.
/// </remarks>
internal sealed partial class PrometheusExporter : IDisposable
{
    /// <summary>The meter Kestrel creates from the host's <see cref="IMeterFactory"/>.</summary>
    public const string KestrelMeterName = "Microsoft.AspNetCore.Server.Kestrel";

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    // Kestrel's connection instruments, named as OpenTelemetry names them for Prometheus (dots to underscores,
    // _total on a counter; the unit "{connection}" adds nothing). Tags (address, port) are summed: one listener.
    private static readonly Dictionary<string, string> KestrelNames = new(StringComparer.Ordinal)
    {
        ["kestrel.active_connections"] = "kestrel_active_connections",
        ["kestrel.queued_connections"] = "kestrel_queued_connections",
        ["kestrel.rejected_connections"] = "kestrel_rejected_connections_total",
    };

    private readonly Meter _pulse;
    private readonly object? _kestrelScope;
    private readonly MeterListener _listener = new();
    private readonly Lock _sync = new();

    // Written in this order: Pulse's instruments as created, then Kestrel's as published.
    private readonly List<Series> _own = [];
    private readonly List<Series> _kestrel = [];

    /// <param name="metrics">The server's instruments.</param>
    /// <param name="kestrelScope">The host's <see cref="IMeterFactory"/>, which scopes its Kestrel's meter; null: none.</param>
    public PrometheusExporter(PulseMetrics metrics, IMeterFactory? kestrelScope = null)
    {
        _pulse = metrics.Meter;
        _kestrelScope = kestrelScope;
        _listener.InstrumentPublished = OnPublished;
        _listener.SetMeasurementEventCallback<long>(static (_, value, _, state) => ((Series)state!).Record(value));
        _listener.SetMeasurementEventCallback<double>(static (_, value, _, state) => ((Series)state!).Record(value));
        _listener.Start();
    }

    /// <summary>Appends every series; observable instruments are read now.</summary>
    public void Write(StringBuilder text)
    {
        lock (_sync)
        {
            _listener.RecordObservableInstruments();
            foreach (var series in _own)
            {
                series.Write(text);
            }

            foreach (var series in _kestrel)
            {
                series.Write(text);
            }
        }
    }

    /// <summary>
    /// The value of the counter or gauge <paramref name="name"/> as <c>/metrics</c> would show it now
    /// (a histogram: its count). For tests and for the server's own checks.
    /// </summary>
    public double Read(string name)
    {
        lock (_sync)
        {
            _listener.RecordObservableInstruments();
            foreach (var series in _own.Concat(_kestrel))
            {
                if (series.Name == name)
                {
                    return series.Value;
                }
            }
        }

        throw new KeyNotFoundException($"no metric named {name}");
    }

    /// <summary><see cref="Read"/> of a whole-number counter or gauge.</summary>
    public long ReadLong(string name) => (long)Read(name);

    public void Dispose() => _listener.Dispose();

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        string name;
        List<Series> list;
        if (ReferenceEquals(instrument.Meter, _pulse))
        {
            (name, list) = (instrument.Name, _own);
        }
        else if (_kestrelScope is not null && ReferenceEquals(instrument.Meter.Scope, _kestrelScope)
            && instrument.Meter.Name == KestrelMeterName && KestrelNames.TryGetValue(instrument.Name, out var kestrelName))
        {
            (name, list) = (kestrelName, _kestrel);
        }
        else
        {
            return;
        }

        if (Series.For(instrument, name) is { } series)
        {
            lock (_sync)
            {
                list.Add(series);
            }

            listener.EnableMeasurementEvents(instrument, series);
        }
    }
}
