using BenchmarkDotNet.Attributes;
using Pulse.Storage;

namespace Pulse.Benchmarks;

/// <summary>Serializing the view model of a two-hour, three-sided battle (once per computation, docs/design.md §5).</summary>
[MemoryDiagnoser]
public class ViewModelBenchmarks
{
    private ViewModel _model = null!;

    [GlobalSetup]
    public void Setup() => _model = BenchmarkData.BattleViewModel();

    /// <summary>Returns the JSON length in bytes.</summary>
    [Benchmark]
    public int Serialize() => ViewModelJson.Serialize(_model, 42, BenchmarkData.ComputedAt).Length;
}
