using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pulse.Tests.Broadcasting;

/// <summary>A computation double: records every call with its fake time and catches overlaps per event.</summary>
internal sealed class RecordingCompute(TimeProvider time) : ISnapshotComputation, IDisposable
{
    private readonly ConcurrentDictionary<Guid, int> _running = new();
    private readonly SemaphoreSlim _called = new(0);
    private int _overlaps;

    public readonly record struct Call(Guid EventId, string EventName, DateTimeOffset At);

    public ConcurrentQueue<Call> Calls { get; } = new();

    /// <summary>What a call does; null completes at once (synchronously).</summary>
    public Func<Call, CancellationToken, Task>? Behavior { get; set; }

    /// <summary>Times two computations of one event overlapped; must stay 0.</summary>
    public int Overlaps => Volatile.Read(ref _overlaps);

    /// <summary>What <see cref="HeldEvents"/> answers (events someone watches or caches).</summary>
    public List<Guid> Held { get; } = [];

    public IReadOnlyCollection<Guid> HeldEvents() => Held.ToArray();

    /// <summary>Events told to read in full, in order; <see cref="Guid.Empty"/> stands for all.</summary>
    public ConcurrentQueue<Guid> FullReads { get; } = new();

    public void RequireFull(Guid eventId) => FullReads.Enqueue(eventId);

    public void RequireFullAll() => FullReads.Enqueue(Guid.Empty);

    public IReadOnlyList<Call> For(Guid eventId) => Calls.Where(c => c.EventId == eventId).ToList();

    public async Task ComputeAsync(Guid eventId, string eventName, CancellationToken cancellationToken)
    {
        var call = new Call(eventId, eventName, time.GetUtcNow());
        if (_running.AddOrUpdate(eventId, 1, static (_, n) => n + 1) > 1)
        {
            Interlocked.Increment(ref _overlaps);
        }

        Calls.Enqueue(call);
        _called.Release();
        try
        {
            await (Behavior?.Invoke(call, cancellationToken) ?? Task.CompletedTask);
        }
        finally
        {
            _running.AddOrUpdate(eventId, 0, static (_, n) => n - 1);
        }
    }

    /// <summary>Groups the ticker formed, each as its event ids.</summary>
    public ConcurrentQueue<Guid[]> Groups { get; } = new();

    /// <summary>Every event as <see cref="ComputeAsync"/>, all at once.</summary>
    public IReadOnlyList<Task> ComputeMany(IReadOnlyList<(Guid EventId, string EventName)> events, CancellationToken cancellationToken)
    {
        Groups.Enqueue(events.Select(e => e.EventId).ToArray());
        return events.Select(e => ComputeAsync(e.EventId, e.EventName, cancellationToken)).ToArray();
    }

    public void Dispose() => _called.Dispose();

    /// <summary>For calls started on the thread pool; the timeout only guards a broken test.</summary>
    public async Task WaitForCallsAsync(int count)
    {
        while (Calls.Count < count)
        {
            Assert.True(await _called.WaitAsync(TimeSpan.FromSeconds(10)), $"expected {count} calls, saw {Calls.Count}");
        }
    }
}

/// <summary>Keeps the event ids logged, to check that a log line was written.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<EventId> Events { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Events.Enqueue(eventId);
}
