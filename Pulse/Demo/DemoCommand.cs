using Pulse.Cli;

namespace Pulse.Demo;

/// <summary><c>pulse demo</c>.</summary>
internal static class DemoCommand
{
    public static Task<int> RunAsync(DemoOptions options)
    {
        Console.Error.WriteLine("pulse demo: use ./demo.sh in the repository until the demo command lands");
        return Task.FromResult(1);
    }
}
