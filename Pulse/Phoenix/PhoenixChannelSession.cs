using System.Buffers;
using System.Text.Json;
using Pulse.Broadcasting;
using Pulse.Configuration;
using Pulse.Diagnostics;
using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>
/// One socket's Phoenix channels (docs/design.md §7): heartbeat, join, leave, and the error replies.
/// </summary>
/// <remarks>
/// Thread safety: the transport calls <see cref="OnTextMessageAsync"/> and <see cref="OnClosed"/> one at
/// a time from the read loop, and awaits each message (a join awaiting its snapshot included) before
/// the next, so the session's state needs no lock. Broadcasts never pass through here: the hub offers
/// frames straight to the slots the session created, which stay closed until the join reply is queued.
/// Decisions where Phoenix differs or is silent:
/// <list type="bullet">
/// <item>Any event other than join/leave on a joined topic is answered <c>{"reason":"unknown event"}</c>
/// and the channel stays joined (Phoenix would crash the channel, having no <c>handle_in</c>, and push
/// <c>phx_error</c>; the client would then rejoin, which costs more than an error reply).</item>
/// <item>Any event but <c>phx_join</c>/<c>phx_leave</c> on a topic not joined → <c>unmatched topic</c>;
/// <c>phx_leave</c> of a topic not joined → ok, both as Phoenix.</item>
/// <item>Replies about an <c>event:&lt;uuid&gt;</c> topic carry its lower-case form (docs/design.md §5).</item>
/// </list>
/// </remarks>
internal sealed partial class PhoenixChannelSession(
    IChannelTransport transport,
    PhoenixSerializer serializer,
    Hub hub,
    ISnapshotProvider snapshots,
    WebSocketTransportOptions options,
    LogLimiter joinFailures,
    ILogger logger,
    PulseMetrics metrics) : IWebSocketHandler
{
    private static readonly JsonEncodedText MalformedMessage = JsonEncodedText.Encode("malformed message");
    private static readonly JsonEncodedText UnmatchedTopic = JsonEncodedText.Encode("unmatched topic");
    private static readonly JsonEncodedText UnknownEvent = JsonEncodedText.Encode("unknown event");

    // Lower-case topic → its subscription; created on the first join (an idle socket with no channel holds none).
    private Dictionary<string, ChannelSubscription>? _joined;
    private bool _closed;

    public int JoinedCount => _joined?.Count ?? 0;

    public ValueTask OnTextMessageAsync(ReadOnlySequence<byte> message)
    {
        if (_closed)
        {
            return ValueTask.CompletedTask;
        }

        if (!serializer.TryDecode(message, out var decoded))
        {
            HandleMalformed(decoded);
            return ValueTask.CompletedTask;
        }

        string topic = decoded.Topic!;
        switch (decoded.Event)
        {
            case PhoenixNames.Heartbeat when topic == PhoenixNames.PhoenixTopic:
                SendOk(decoded.JoinRef, decoded.Ref, topic);
                return ValueTask.CompletedTask;
            case PhoenixNames.Join:
                return JoinAsync(decoded);
            case PhoenixNames.Leave:
                Leave(decoded);
                return ValueTask.CompletedTask;
            default:
                HandleOther(decoded);
                return ValueTask.CompletedTask;
        }
    }

    public void OnClosed()
    {
        _closed = true;
        if (_joined is null)
        {
            return;
        }

        foreach (var joined in _joined.Values)
        {
            joined.Dispose();
        }

        _joined.Clear();
    }

    private void HandleMalformed(in PhoenixMessage decoded)
    {
        // The socket stays up; a message that carried a ref and a topic is answered (docs/design.md §7).
        if (decoded.Ref is null || decoded.Topic is null)
        {
            PhoenixLog.MalformedIgnored(logger, transport.ConnectionId);
            return;
        }

        PhoenixLog.MalformedAnswered(logger, transport.ConnectionId, decoded.Topic);
        SendError(decoded.JoinRef, decoded.Ref, decoded.Topic, MalformedMessage);
    }

    private void HandleOther(in PhoenixMessage decoded)
    {
        string topic = EventTopic.Canonical(decoded.Topic!);
        if (_joined is not null && _joined.ContainsKey(topic))
        {
            SendError(decoded.JoinRef, decoded.Ref, topic, UnknownEvent);
            return;
        }

        PhoenixLog.UnmatchedTopic(logger, transport.ConnectionId, decoded.Event!, decoded.Topic!);
        SendError(decoded.JoinRef, decoded.Ref, decoded.Topic!, UnmatchedTopic);
    }

    private void SendOk(string? joinRef, string? @ref, string topic)
    {
        var writer = JsonScratch.Begin();
        serializer.WriteOkReply(writer, joinRef, @ref, topic);
        transport.SendText(JsonScratch.End(writer));
    }

    private void SendError(string? joinRef, string? @ref, string topic, JsonEncodedText reason)
    {
        var writer = JsonScratch.Begin();
        serializer.WriteErrorReply(writer, joinRef, @ref, topic, reason);
        transport.SendText(JsonScratch.End(writer));
    }

    private void SendClose(string? joinRef, string topic)
    {
        var writer = JsonScratch.Begin();
        serializer.WriteClose(writer, joinRef, topic);
        transport.SendText(JsonScratch.End(writer));
    }
}
