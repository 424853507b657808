using BenchmarkDotNet.Running;
using Pulse.Benchmarks;

// The one figure that is a size, not a time: what every broadcast frame of a big battle carries.
Console.WriteLine($"View model JSON of a 2-hour, 3-sided battle ({BenchmarkData.PointsPerSide} points a side): "
    + $"{BenchmarkData.ViewModelJson().Length:N0} bytes");

BenchmarkSwitcher.FromAssembly(typeof(BenchmarkData).Assembly).Run(args, BenchmarkConfig.Create());
