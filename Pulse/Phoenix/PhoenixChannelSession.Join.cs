using System.Text.Json;
using Pulse.Broadcasting;
using Pulse.Diagnostics;

namespace Pulse.Phoenix;

/// <summary>Join and leave.</summary>
internal sealed partial class PhoenixChannelSession
{
    private static readonly JsonEncodedText NotFound = JsonEncodedText.Encode("not found");
    private static readonly JsonEncodedText TooManyChannels = JsonEncodedText.Encode("too many channels joined");
    private static readonly JsonEncodedText JoinCrashed = JsonEncodedText.Encode("join crashed");

    private async ValueTask JoinAsync(PhoenixMessage message)
    {
        if (!EventTopic.TryParse(message.Topic!, out var eventId))
        {
            PhoenixLog.UnmatchedTopic(logger, transport.ConnectionId, message.Event!, message.Topic!);
            SendError(message.JoinRef, message.Ref, message.Topic!, UnmatchedTopic);
            return;
        }

        string topic = EventTopic.Format(eventId);
        _joined ??= [];
        if (_joined.Remove(topic, out var previous))
        {
            // As Phoenix: the old join is closed (phx_close with its join_ref), then the new one runs.
            PhoenixLog.DuplicateJoin(logger, transport.ConnectionId, topic);
            previous.Dispose();
            SendClose(previous.JoinRef, topic);
        }

        if (_joined.Count >= options.MaxTopicsPerSocket)
        {
            PhoenixLog.TooManyChannels(logger, transport.ConnectionId, options.MaxTopicsPerSocket);
            SendError(message.JoinRef, message.Ref, topic, TooManyChannels);
            return;
        }

        // Subscribed before the snapshot is read: a broadcast published meanwhile is not lost. It waits in
        // the slot, which SendJoinReply opens only once the reply is queued; so the client never gets the
        // reply after a newer broadcast (its screen would go back to older numbers until the next change),
        // and a broadcast not newer than the reply's snapshot is not sent at all.
        var subscription = hub.Subscribe(topic, serializer.Version, transport.CreateSlot(), message.JoinRef);
        Snapshot? snapshot;
        try
        {
            snapshot = await snapshots.GetAsync(eventId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            subscription.Dispose();
            if (joinFailures.ShouldLog(out long suppressed))
            {
                PhoenixLog.JoinFailed(logger, suppressed, transport.ConnectionId, topic, ex.GetType().Name, ex.Message);
            }

            // Phoenix's own generic reason: what failed (a database host, a statement) is for the log only.
            SendError(message.JoinRef, message.Ref, topic, JoinCrashed);
            return;
        }

        if (joinFailures.Recovered(out long failures))
        {
            PhoenixLog.JoinsRecovered(logger, failures);
        }

        if (snapshot is null || _closed)
        {
            subscription.Dispose();
            if (snapshot is null)
            {
                SendError(message.JoinRef, message.Ref, topic, NotFound);
            }

            return;
        }

        _joined[topic] = subscription;
        var writer = JsonScratch.Begin();
        serializer.WriteJoinReply(writer, message.JoinRef, message.Ref, topic, message.Payload.Span, snapshot.Json);
        transport.SendJoinReply(subscription.Slot, JsonScratch.End(writer), snapshot.Version);
        metrics.ChannelJoined();
    }

    private void Leave(in PhoenixMessage message)
    {
        string topic = EventTopic.Canonical(message.Topic!);
        if (_joined is null || !_joined.Remove(topic, out var joined))
        {
            // As Phoenix: leaving a topic that is not joined is acknowledged.
            SendOk(message.JoinRef, message.Ref, message.Topic!);
            return;
        }

        // Unsubscribed before replying: no broadcast follows the phx_close (docs/design.md §7).
        joined.Dispose();
        SendOk(message.JoinRef, message.Ref, topic);
        SendClose(joined.JoinRef, topic);
    }
}
