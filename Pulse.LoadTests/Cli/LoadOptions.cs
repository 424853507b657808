using CommandLine;

namespace Pulse.LoadTests.Cli;

/// <summary>Command-line options; <c>--help</c> lists them all.</summary>
internal sealed class LoadOptions
{
    [Option("scenario", Required = true, HelpText = "connections | fanout | flood | join-storm | rest | big-event | notify")]
    public string Scenario { get; set; } = "";

    [Option("target", Default = "http://127.0.0.1:4000", HelpText = "Base URL of the server under test.")]
    public string Target { get; set; } = "http://127.0.0.1:4000";

    [Option("allow-remote", HelpText = "Allow a target that is not a loopback address.")]
    public bool AllowRemote { get; set; }

    [Option("api-key", HelpText = "API key for /v1 routes (Authorization: Bearer KEY).")]
    public string? ApiKey { get; set; }

    [Option("database-url", HelpText = "PostgreSQL (postgres://user:pass@host:port/db or a keyword string): inserts rows as background jobs would, creates an event, counts statements.")]
    public string? DatabaseUrl { get; set; }

    [Option("event", HelpText = "Event id to use; without it and with --database-url, one is created with keywords.")]
    public string? EventId { get; set; }

    [Option("duration", Default = 10, HelpText = "Seconds of load (join-storm: the storm's length).")]
    public int Duration { get; set; } = 10;

    [Option("connections", Default = 100, HelpText = "Sockets (connections, fanout, join-storm) or keep-alive HTTP connections (rest, notify).")]
    public int Connections { get; set; } = 100;

    [Option("rate", HelpText = "Requests per second: flood POSTs (default 100); rest and notify inject this rate instead of keeping every connection busy.")]
    public double? Rate { get; set; }

    [Option("interval", Default = 1.0, HelpText = "fanout: seconds between notifications. Space them past one broadcast's delivery time for large N, or a latest-only server rightly skips frames a backlogged client has not read yet.")]
    public double Interval { get; set; } = 1.0;

    [Option("results", Default = "results", HelpText = "Folder for the JSON and Markdown reports.")]
    public string Results { get; set; } = "results";

    [Option("workers", Default = 1, HelpText = "Processes holding sockets (a process may hold only 20,000 open files).")]
    public int Workers { get; set; } = 1;

    [Option("server-pid", HelpText = "Server process id: its RSS and CPU are read from /proc/<pid>.")]
    public int? ServerPid { get; set; }

    [Option("source-addresses", Default = 16, HelpText = "Client sockets are spread over 127.0.0.1..127.0.0.N.")]
    public int SourceAddresses { get; set; } = 16;

    [Option("upgrade-after-request", HelpText = "Each socket first sends GET /healthz on its connection and reads the answer, then upgrades: the path of upgrades nginx sends over kept-alive upstream connections.")]
    public bool UpgradeAfterRequest { get; set; }

    [Option("rows", Default = 1_000_000, HelpText = "big-event: entries generated in the event's window before the run (up to 50,000,000).")]
    public int Rows { get; set; } = 1_000_000;

    [Option("write-seconds", Default = 30, HelpText = "big-event: seconds of writes (200 rows/s in batches of 20 every 100 ms, each followed by a POST).")]
    public int WriteSeconds { get; set; } = 30;

    [Option("keep", HelpText = "big-event: keep the generated event and rows instead of deleting them at the end.")]
    public bool Keep { get; set; }

    [Option("events", Default = 1, HelpText = "notify: events the POSTs are spread over round-robin, created by the scenario (up to 10,000).")]
    public int Events { get; set; } = 1;

    [Option("subscribe-target", HelpText = "notify: base URL the subscribers and the probe's subscribers connect to (default: --target); a second node of the same database gives the two-node figure.")]
    public string? SubscribeTarget { get; set; }

    [Option("no-probe", HelpText = "notify: no latency probe; the statement figures are then the load's alone (the probe's 10 POSTs a second on idle events cost a leading-edge computation each).")]
    public bool NoProbe { get; set; }

    [Option("smoke", HelpText = "Tiny run (20 sockets, 3 s, 20/s; notify: 3 s, 200/s, 5 events; big-event: 10,000 rows, 5 s of writes, 10 sockets) asserting correctness only.")]
    public bool Smoke { get; set; }

    [Option("worker-index", Default = -1, Hidden = true, HelpText = "Internal: run as worker k of --workers.")]
    public int WorkerIndex { get; set; } = -1;

    [Option("worker-offset", Default = 0, Hidden = true, HelpText = "Internal: first subscriber index of this worker.")]
    public int WorkerOffset { get; set; }

    public bool IsWorker => WorkerIndex >= 0;

    /// <summary>Extra seconds the run may take beyond the load: big-event generates, vacuums and deletes its rows.</summary>
    public int SlackSeconds => Scenario == "big-event" ? (Rows / 20_000) + (WriteSeconds * 2) : 0;

    /// <summary>Smoke runs shrink every knob: seconds and a handful of sockets, correctness only.</summary>
    public void ApplySmoke()
    {
        if (!Smoke)
        {
            return;
        }

        Connections = Math.Min(Connections, 20);
        Duration = Math.Min(Duration, 3);
        // notify measures notifications: its smoke keeps 200/s over 5 events so several POSTs land in every coalescing window.
        double smokeRate = Scenario == "notify" ? 200 : 20;
        Rate = Rate is { } rate ? Math.Min(rate, smokeRate) : smokeRate;
        Rows = Math.Min(Rows, 10_000);
        WriteSeconds = Math.Min(WriteSeconds, 5);
        if (Scenario == "big-event")
        {
            Connections = Math.Min(Connections, 10);
        }

        if (Scenario == "notify")
        {
            Events = 5;
        }
    }
}
