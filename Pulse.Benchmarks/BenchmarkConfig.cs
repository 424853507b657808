using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Pulse.Benchmarks;

/// <summary>
/// One short in-process job for a 2-core machine shared with other work: no child project is built
/// per benchmark (<see cref="InProcessEmitToolchain"/>), 3 warmup and 10 measured iterations of about
/// 250 ms each. With ~20 cases, pilot and overhead stages included, a full run takes 2–4 minutes.
/// </summary>
internal static class BenchmarkConfig
{
    public static IConfig Create() => ManualConfig.CreateEmpty()
        .AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("Short-InProcess"))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumnProvider(DefaultColumnProviders.Instance)

        // Other processes share the cores: the median and the minimum say more than the mean then.
        .AddColumn(StatisticColumn.Median, StatisticColumn.Min)
        .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
        .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub);
}
