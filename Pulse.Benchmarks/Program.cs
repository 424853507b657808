using BenchmarkDotNet.Running;
using Pulse.Benchmarks;

// big-event: before/after of a tick on battles of up to 10,000,000 links, against a real PostgreSQL
// (BigEventCommand); everything else is BenchmarkDotNet.
if (args is ["big-event", ..])
{
    return await BigEventCommand.RunAsync(args[1..], CancellationToken.None);
}

// The one figure that is a size, not a time: what every broadcast frame of a big battle carries.
Console.WriteLine($"View model JSON of a 2-hour, 3-sided battle ({BenchmarkData.PointsPerSide} points a side): "
    + $"{BenchmarkData.ViewModelJson().Length:N0} bytes");

BenchmarkSwitcher.FromAssembly(typeof(BenchmarkData).Assembly).Run(args, BenchmarkConfig.Create());
return 0;
