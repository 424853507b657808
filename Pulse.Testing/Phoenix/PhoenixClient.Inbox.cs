using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;

namespace Pulse.Testing.Phoenix;

internal sealed partial class PhoenixClient
{
    // Messages not yet taken by a Receive/Next/Reply call, in arrival order; a taken one is let go.
    private readonly List<InboxMessage> _inbox = [];

    // Every view-model total since the last Clear, kept small (a browser tab's view): what WaitForTotal
    // and LatestTotal look at, whether or not the message was taken.
    private readonly List<(long At, string Event, long Total)> _seen = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _ended;

    /// <summary>The server's close code, once its Close frame came (answered by the read loop).</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseStatusDescription { get; private set; }

    /// <summary><see cref="Stopwatch"/> timestamp of the server's Close frame.</summary>
    public long ClosedAt { get; private set; }

    /// <summary>Why the read loop stopped other than by a Close frame or disposal, or null.</summary>
    public string? Failure { get; private set; }

    /// <summary>The next message not yet taken, or null when none arrives within <paramref name="timeout"/> (or the socket ended).</summary>
    public Task<InboxMessage?> ReceiveAsync(TimeSpan? timeout = null) => WaitAsync(TakeNext, timeout);

    /// <summary>The next message not yet taken; throws when none arrives within <paramref name="timeout"/> or the socket ended.</summary>
    public async Task<InboxMessage> NextAsync(TimeSpan? timeout = null) =>
        await ReceiveAsync(timeout) ?? throw new TimeoutException($"no message within {Wait(timeout).TotalSeconds} s ({Ending()})");

    /// <summary>The reply (<c>phx_reply</c>) to <paramref name="ref"/>, whatever came before it (that stays to be received).</summary>
    public async Task<InboxMessage> ReplyAsync(string @ref, TimeSpan? timeout = null) =>
        await WaitAsync(() => Take(m => m.Event == "phx_reply" && m.Ref == @ref), timeout)
        ?? throw new TimeoutException($"no phx_reply to ref {@ref} within {Wait(timeout).TotalSeconds} s ({Ending()})");

    /// <summary>Takes messages until one matches; the ones taken before are returned too, for assertions.</summary>
    public async Task<(InboxMessage Match, List<InboxMessage> Before)> ReceiveUntilAsync(Func<InboxMessage, bool> match, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Wait(timeout).TotalSeconds * Stopwatch.Frequency);
        var before = new List<InboxMessage>();
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            var message = await ReceiveAsync(left)
                ?? throw new TimeoutException($"no matching message within {Wait(timeout).TotalSeconds} s ({Ending()}); taken before: {string.Join(' ', before)}");
            if (match(message))
            {
                return (message, before);
            }

            before.Add(message);
        }
    }

    /// <summary>Every message taken until none comes for <paramref name="quiet"/>; at most <paramref name="max"/>.</summary>
    public async Task<List<InboxMessage>> ReceiveUntilQuietAsync(TimeSpan quiet, int max = 1000)
    {
        var messages = new List<InboxMessage>();
        while (messages.Count < max && await ReceiveAsync(quiet) is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>Waits for the server's Close frame (the read loop answers it) and returns its code.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(TimeSpan timeout)
    {
        var ended = await WaitAsync(() => _ended ? (object)true : null, timeout);
        return ended is null ? throw new TimeoutException($"the server did not close within {timeout.TotalSeconds} s") : CloseStatus;
    }

    /// <summary>Waits until a view model whose total matches arrives (since <see cref="Clear"/>, taken or not); returns its arrival timestamp.</summary>
    public async Task<long> WaitForAsync(Func<long, bool> match, TimeSpan timeout, string what) =>
        (await WaitAsync(() => FindSeen(match), timeout))?.At
        ?? throw new TimeoutException($"no {what} within {timeout.TotalSeconds} s; totals seen: [{string.Join(", ", Totals())}], socket {_socket.State}");

    public Task<long> WaitForTotalAsync(long total, TimeSpan timeout) => WaitForAsync(t => t == total, timeout, $"total {total}");

    /// <summary>The latest total seen since <see cref="Clear"/> (join reply snapshot or broadcast), or -1.</summary>
    public long LatestTotal
    {
        get
        {
            lock (_inbox)
            {
                return _seen.Count == 0 ? -1 : _seen[^1].Total;
            }
        }
    }

    /// <summary>The event of the latest message with a total (<c>phx_reply</c> for the join), or null.</summary>
    public string? LatestEvent
    {
        get
        {
            lock (_inbox)
            {
                return _seen.Count == 0 ? null : _seen[^1].Event;
            }
        }
    }

    /// <summary>Every total seen since <see cref="Clear"/>, in arrival order.</summary>
    public List<long> Totals()
    {
        lock (_inbox)
        {
            return [.. _seen.Select(s => s.Total)];
        }
    }

    /// <summary>Forgets the totals seen, so the next wait only sees new messages.</summary>
    public void Clear()
    {
        lock (_inbox)
        {
            _seen.Clear();
        }
    }

    // Called under the lock.
    private InboxMessage? TakeNext() => Take(_ => true);

    private InboxMessage? Take(Func<InboxMessage, bool> match)
    {
        int index = _inbox.FindIndex(m => match(m));
        if (index < 0)
        {
            return null;
        }

        var message = _inbox[index];
        _inbox.RemoveAt(index);
        return message;
    }

    // A boxed timestamp, so WaitAsync can tell "found" from "not yet".
    private SeenAt? FindSeen(Func<long, bool> match)
    {
        foreach (var seen in _seen)
        {
            if (match(seen.Total))
            {
                return new SeenAt(seen.At);
            }
        }

        return null;
    }

    private sealed record SeenAt(long At);

    // Runs probe under the lock each time the inbox changes, until it returns non-null, the socket
    // ends (one last probe), or the time is up.
    private async Task<T?> WaitAsync<T>(Func<T?> probe, TimeSpan? timeout)
        where T : class
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Wait(timeout).TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            Task changed;
            lock (_inbox)
            {
                if (probe() is { } found)
                {
                    return found;
                }

                if (_ended)
                {
                    return null;
                }

                changed = _changed.Task;
            }

            long left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return null;
            }

            try
            {
                // WaitAsync disposes its timer when the inbox changes first: no timer outlives a wait.
                await changed.WaitAsync(TimeSpan.FromSeconds(left / (double)Stopwatch.Frequency));
            }
            catch (TimeoutException)
            {
                // One last probe above, then null.
            }
        }
    }

    private TimeSpan Wait(TimeSpan? timeout) => timeout ?? _options.DefaultWait;

    private string Ending() => _ended ? $"socket ended: close {CloseStatus} {CloseStatusDescription} {Failure}".TrimEnd() : "socket " + _socket.State;

    private void Append(InboxMessage? message, bool end = false)
    {
        TaskCompletionSource changed;
        lock (_inbox)
        {
            if (message is not null)
            {
                _inbox.Add(message);
                if (message.TotalOrNull is { } total)
                {
                    _seen.Add((message.ReceivedAt, message.Event, total));
                }
            }

            _ended |= end;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.GetMemory(16 * 1024), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ClosedAt = Stopwatch.GetTimestamp();
                    CloseStatus = _socket.CloseStatus;
                    CloseStatusDescription = _socket.CloseStatusDescription;
                    // RFC 6455 §5.5.1: answer the Close, so the server sees a clean end.
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, timeout.Token);
                    return;
                }

                buffer.Advance(result.Count);
                if (result.EndOfMessage)
                {
                    Append(InboxMessage.Parse(buffer.WrittenSpan, Stopwatch.GetTimestamp()));
                    buffer.ResetWrittenCount();
                }
            }
        }
        catch (JsonException e)
        {
            Failure = "the server sent a message that is not JSON: " + e.Message;
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Aborted by DisposeAsync or by the server.
        }
        finally
        {
            Append(null, end: true);
        }
    }
}
