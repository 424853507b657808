using System.Net;
using Pulse.LoadTests.Cli;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>Everything a scenario needs: options, target, database, event, stats, checks.</summary>
internal sealed class ScenarioContext(LoadOptions options, Target target, LoadDatabase? database, Guid eventId, HttpClient http)
{
    public LoadOptions Options { get; } = options;
    public Target Target { get; } = target;
    public LoadDatabase? Database { get; } = database;
    public Guid EventId { get; } = eventId;
    public string Topic { get; } = "event:" + eventId.ToString("D");
    public HttpClient Http { get; } = http;
    public ScenarioStats Stats { get; } = new();

    /// <summary>Correctness checks that failed; a smoke run passes only when this stays empty.</summary>
    public List<string> CheckFailures { get; } = [];

    /// <summary>CPU seconds spent by worker processes (added to this process's own).</summary>
    public double WorkerCpuSeconds { get; set; }

    /// <summary>Subscribers in worker processes when <c>--workers</c> &gt; 1 (they hold <c>--connections</c> between them), else here.</summary>
    public ISubscriberGroup CreateGroup(int count, double joinRate, bool keepLastBroadcast, bool inProcess = false) =>
        Options.Workers > 1 && !inProcess
            ? new WorkerGroup(Options, EventId.ToString("D"), Options.Workers)
            : new SubscriberGroup(new GroupSpec(Topic, count, joinRate, 0, keepLastBroadcast), Target.Endpoint, Target.HostHeader,
                new SourceAddresses(Options.SourceAddresses, 0));

    public ProcessSample? SampleServer() => Options.ServerPid is { } pid ? ProcessSample.Read(pid) : null;

    /// <summary>POSTs one notification (docs/design.md §6) and returns the status code.</summary>
    public async Task<HttpStatusCode> NotifyAsync(string name, CancellationToken cancellationToken)
    {
        string id = EventId.ToString("D");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Target.BaseUri, "v1/events"))
        {
            Content = new StringContent(
                $$$"""{"topic":"event:{{{id}}}","event":"{{{name}}}","payload":{"event_id":"{{{id}}}"}}""",
                System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", Options.ApiKey);
        using HttpResponseMessage response = await Http.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    /// <summary>Adds server RSS/CPU figures between two samples, per <paramref name="unit"/> when given.</summary>
    public void AddServerFigures(ProcessSample? before, ProcessSample? after, long units, string unit)
    {
        if (before is not { } b || after is not { } a)
        {
            return;
        }

        Stats.SetFigure("server RSS before (MiB)", FormattableString.Invariant($"{b.RssBytes / 1048576.0:F1}"));
        Stats.SetFigure("server RSS after (MiB)", FormattableString.Invariant($"{a.RssBytes / 1048576.0:F1}"));
        double cpu = (a.Cpu - b.Cpu).TotalSeconds;
        Stats.SetFigure("server CPU (s)", FormattableString.Invariant($"{cpu:F2}"));
        if (units > 0)
        {
            Stats.SetFigure($"server CPU per {unit} (µs)", FormattableString.Invariant($"{cpu * 1e6 / units:F1}"));
        }
    }
}
