namespace Pulse.Tests.Infrastructure;

/// <summary>
/// Instruments for one component under test, and the exporter that reads them as <c>/metrics</c> would:
/// each test owns its figures, so test classes that count run in parallel.
/// </summary>
internal sealed class TestMetrics : IDisposable
{
    public TestMetrics() => Exported = new PrometheusExporter(Instruments);

    /// <summary>Handed to the component's constructor.</summary>
    public PulseMetrics Instruments { get; } = new();

    public PrometheusExporter Exported { get; }

    public long Read(string name) => Exported.ReadLong(name);

    public void Dispose()
    {
        Exported.Dispose();
        Instruments.Dispose();
    }
}
