namespace Pulse.Tests.EndToEnd;

/// <summary>What a user sees when a verb fails: one line on stderr, no stack trace, no core-dump exit.</summary>
internal static class FailureLine
{
    /// <summary>Asserts exit code 1 and exactly one non-empty stderr line free of stack frames; returns it.</summary>
    public static string Single(int exitCode, string stderr)
    {
        Assert.False(stderr.Contains("Unhandled exception", StringComparison.Ordinal), $"unhandled exception:\n{stderr}");
        Assert.False(stderr.Contains("   at ", StringComparison.Ordinal), $"stack trace on stderr:\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{stderr}");
        Assert.True(exitCode == 1, $"exit code {exitCode} (expected 1): {lines[0]}");
        return lines[0];
    }
}
