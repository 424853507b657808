using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Cli;

/// <summary>
/// The command line of docs/design.md §3, run as a child process (<c>dotnet pulse.dll</c>, copied next to the
/// tests): exit codes, where usage goes, one-line configuration errors, migrate and api-key.
/// </summary>
[Trait("Category", "socket")] public sealed class CliTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Help_ExitsZero_ListsVerbsOnStdout()
    {
        var run = await RunAsync(["--help"]);
        Assert.Equal(0, run.ExitCode);
        foreach (var verb in new[] { "serve", "migrate", "api-key", "demo" })
        {
            Assert.Contains(verb, run.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, run.Stderr);
    }

    [Fact]
    public async Task Version_ExitsZero_PrintsVersion()
    {
        var run = await RunAsync(["--version"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("0.1.0", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("serve", "--bogus")]
    [InlineData("migrate", "--urls", "http://127.0.0.1:1")]
    [InlineData("frobnicate")]
    [InlineData("serve", "extra")]
    [InlineData("--urls", "http://127.0.0.1:0", "extra")]
    [InlineData("migrate", "extra")]
    [InlineData("api-key", "create", "extra", "--name", "x")]
    [InlineData("demo", "extra")]
    public async Task UnknownOptionOrVerb_ExitsTwo_UsageOnStderr(params string[] args)
    {
        var run = await RunAsync(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage", run.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public async Task Serve_InvalidConfiguration_ExitsTwoWithOneLineNamingKey()
    {
        var run = await RunAsync(["serve", "--database-url", database.Url], new() { ["PULSE_Broadcast__TickMilliseconds"] = "0" });
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Broadcast:TickMilliseconds", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_MissingConfigFile_ExitsTwoNamingConfig()
    {
        var run = await RunAsync(["serve", "--config", Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.json")]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--config", Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_NoDatabaseUrl_ExitsTwoNamingDatabaseUrl()
    {
        var run = await RunAsync(["serve", "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Database:Url", Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_Twice_ExitsZeroEachTime()
    {
        var environment = new Dictionary<string, string> { ["DATABASE_URL"] = database.Url };
        var first = await RunAsync(["migrate"], environment);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var second = await RunAsync(["migrate"], environment);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("up to date", second.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_DatabaseUnreachable_ExitsOne()
    {
        var run = await RunAsync(["migrate", "--database-url", "postgres://pulse@127.0.0.1:1/nowhere"]);
        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ApiKeyCreate_LastLineIsAWorkingKey()
    {
        var run = await RunAsync(["api-key", "create", "--name", "cli"], new() { ["DATABASE_URL"] = database.Url });
        Assert.True(run.ExitCode == 0, run.Stderr);
        var key = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.GetAsync(new Uri("/v1/events", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("api-key", "create")]
    [InlineData("api-key", "revoke", "--name", "x")]
    [InlineData("api-key")]
    public async Task ApiKey_BadUsage_ExitsTwo(params string[] args)
    {
        var run = await RunAsync(args, new() { ["DATABASE_URL"] = database.Url });
        Assert.Equal(2, run.ExitCode);
        Assert.NotEqual(string.Empty, run.Stderr);
    }

    private sealed record Run(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <c>dotnet pulse.dll</c> with a clean Pulse environment; killed after 60 s.</summary>
    private static async Task<Run> RunAsync(string[] args, Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pulse.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.Where(n => n.StartsWith("PULSE_", StringComparison.OrdinalIgnoreCase) || n is "DATABASE_URL" or "POOL_SIZE").ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pulse {string.Join(' ', args)} did not exit within 60 s; stdout: {await stdout}");
        }

        return new Run(process.ExitCode, (await stdout).ReplaceLineEndings("\n"), (await stderr).ReplaceLineEndings("\n"));
    }
}
