using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Pulse.LoadTests.Cli;

namespace Pulse.LoadTests.Subscribers;

/// <summary>
/// Spreads subscribers over worker processes (this tool re-invoked with <c>--worker-index</c>),
/// because one process may hold only 20,000 open files here.
/// </summary>
/// <remarks>
/// Protocol, one line each way: the worker prints <c>{"type":"ready",...}</c> once its
/// sockets are joined and <c>{"type":"result",...}</c> (a <see cref="GroupResult"/>) on
/// <c>stop</c>; the parent writes <c>tick SEQ SENT_AT</c> and <c>stop</c> to its stdin.
/// Stopwatch timestamps are CLOCK_MONOTONIC on Linux, so a send time taken in the parent is
/// comparable with a receive time taken in a worker.
/// </remarks>
internal sealed class WorkerGroup(LoadOptions options, string eventId, int workers) : ISubscriberGroup
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);
    private readonly List<Process> _processes = [];

    public int JoinedSoFar { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        int share = options.Connections / workers;
        int offset = 0;
        for (int k = 0; k < workers; k++)
        {
            int count = k == workers - 1 ? options.Connections - offset : share;
            _processes.Add(Start(k, offset, count));
            offset += count;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadyTimeout + TimeSpan.FromSeconds(options.Duration));
        foreach (Process process in _processes)
        {
            using JsonDocument ready = await ReadMessageAsync(process, "ready", timeout.Token);
            JoinedSoFar += ready.RootElement.GetProperty("joined").GetInt32();
        }
    }

    private Process Start(int index, int offset, int count)
    {
        var info = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location); // run as `dotnet pulse-load.dll`
        }

        string[] args =
        [
            "--scenario", options.Scenario, "--target", options.Target, "--event", eventId,
            "--duration", Invariant(options.Duration), "--connections", Invariant(count),
            "--source-addresses", Invariant(options.SourceAddresses),
            "--worker-index", Invariant(index), "--worker-offset", Invariant(offset),
        ];
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        if (options.AllowRemote)
        {
            info.ArgumentList.Add("--allow-remote");
        }

        if (options.UpgradeAfterRequest)
        {
            info.ArgumentList.Add("--upgrade-after-request");
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start a worker process");
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<JsonDocument> ReadMessageAsync(Process process, string type, CancellationToken cancellationToken)
    {
        // Bounded: a worker writes two lines; anything else is skipped, at most 1,000 lines.
        for (int i = 0; i < 1000; i++)
        {
            string? line = await process.StandardOutput.ReadLineAsync(cancellationToken)
                ?? throw new InvalidOperationException($"worker {process.Id} exited before '{type}' (exit code {(process.HasExited ? process.ExitCode : -1)})");
            if (!line.StartsWith('{'))
            {
                continue;
            }

            var document = JsonDocument.Parse(line);
            if (document.RootElement.GetProperty("type").GetString() == type)
            {
                return document;
            }

            document.Dispose();
        }

        throw new InvalidOperationException("worker wrote too much before '" + type + "'");
    }

    public void AnnounceTick(int sequence, long sentAt)
    {
        string line = FormattableString.Invariant($"tick {sequence} {sentAt}");
        foreach (Process process in _processes)
        {
            process.StandardInput.WriteLine(line);
            process.StandardInput.Flush();
        }
    }

    public async Task<GroupResult> StopAsync()
    {
        foreach (Process process in _processes)
        {
            await process.StandardInput.WriteLineAsync("stop");
            await process.StandardInput.FlushAsync();
        }

        var parts = new List<GroupResult>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (Process process in _processes)
        {
            using JsonDocument result = await ReadMessageAsync(process, "result", timeout.Token);
            parts.Add(result.RootElement.GetProperty("result").Deserialize<GroupResult>()!);
            await process.WaitForExitAsync(timeout.Token);
        }

        return GroupResult.Merge(parts);
    }

    public ValueTask DisposeAsync()
    {
        foreach (Process process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(); // only our own children, by handle
            }

            process.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
