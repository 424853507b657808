using System.Buffers;
using System.Collections.Concurrent;
using Pulse.Broadcasting;
using Pulse.Diagnostics;
using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>
/// Topics (<c>event:&lt;uuid&gt;</c>) → subscribers, and the fan-out of one broadcast: the message is
/// encoded once per serializer in use, framed once, and the same <see cref="SharedFrame"/> is offered
/// to every subscriber's latest-only slot. The <see cref="IBroadcaster"/> of the broadcasting layer.
/// </summary>
/// <remarks>
/// Concurrency model: one <see cref="ConcurrentDictionary{TKey,TValue}"/> of topics; each topic has its
/// own lock guarding an array of subscriptions. Subscribe and unsubscribe are O(1) under that lock
/// (append; swap-remove by the index the subscription carries), so a join storm of 19,000 on one
/// topic costs 19,000 short lock holds. A subscriber is a <see cref="ChannelSubscription"/>, the one
/// record of a joined topic (the session owns it; disposing it leaves the topic). <see cref="Publish"/> copies the subscriber array under the
/// lock into a pooled array (19,000 references ≈ 150 KB of memcpy) and offers outside it, so joins
/// never wait for a fan-out and a sink that calls back into the hub cannot deadlock.
/// Invariant: a topic in the dictionary with zero subscribers is removed under its lock and marked
/// dead; a subscriber that finds a dead topic retries with a fresh one.
/// </remarks>
internal sealed partial class Hub(ILogger<Hub> logger, PulseMetrics metrics) : IBroadcaster
{
    private readonly ConcurrentDictionary<string, HubTopic> _topics = new(StringComparer.Ordinal);

    /// <summary>
    /// Subscribes <paramref name="slot"/> to <paramref name="topic"/> for a client of
    /// <paramref name="version"/> that joined with <paramref name="joinRef"/>; dispose the result to leave.
    /// </summary>
    public ChannelSubscription Subscribe(string topic, PhoenixVersion version, IFrameSink slot, string? joinRef = null)
    {
        var subscription = new ChannelSubscription(this, topic, joinRef, version, slot);
        while (true)
        {
            var entry = _topics.GetOrAdd(topic, static name => new HubTopic(name));
            if (entry.TryAdd(subscription))
            {
                return subscription;
            }

            // The topic emptied and was removed between GetOrAdd and the lock: take the new one.
        }
    }

    /// <summary>
    /// Offers <c>[null, null, topic, eventName, snapshot]</c> to every subscriber of
    /// <paramref name="topic"/>; returns the number of subscribers offered (0: nothing was encoded).
    /// </summary>
    public int Publish(string topic, string eventName, Snapshot snapshot)
    {
        if (!_topics.TryGetValue(topic, out var entry))
        {
            return 0;
        }

        var subscribers = entry.CopySubscribers(out int count, out int v1Count);
        if (subscribers is null)
        {
            return 0;
        }

        try
        {
            // Encoded only for the serializers in use: most sockets are phoenix.js (V2).
            var v2 = count > v1Count ? Encode(PhoenixSerializer.V2, topic, eventName, snapshot) : null;
            var v1 = v1Count > 0 ? Encode(PhoenixSerializer.V1, topic, eventName, snapshot) : null;
            for (int i = 0; i < count; i++)
            {
                var subscriber = subscribers[i];
                Offer(subscriber, subscriber.Version == PhoenixVersion.V1 ? v1! : v2!);
            }
        }
        finally
        {
            Array.Clear(subscribers, 0, count);
            ArrayPool<ChannelSubscription>.Shared.Return(subscribers);
        }

        metrics.FramesOffered(count);
        return count;
    }

    /// <inheritdoc />
    public void Broadcast(string eventName, Snapshot snapshot) => Publish(EventTopic.Format(snapshot.EventId), eventName, snapshot);

    /// <inheritdoc />
    public bool IsWatched(Guid eventId) => SubscriberCount(EventTopic.Format(eventId)) > 0;

    /// <inheritdoc />
    public IReadOnlyList<Guid> WatchedEvents()
    {
        var events = new List<Guid>();
        foreach (var pair in _topics)
        {
            if (pair.Value.EventId is { } eventId && pair.Value.Count > 0)
            {
                events.Add(eventId);
            }
        }

        return events;
    }

    public int SubscriberCount(string topic) => _topics.TryGetValue(topic, out var entry) ? entry.Count : 0;

    /// <summary>Topics with at least one subscriber right now; a copy.</summary>
    public IReadOnlyList<string> WatchedTopics()
    {
        var topics = new List<string>();
        foreach (var pair in _topics)
        {
            if (pair.Value.Count > 0)
            {
                topics.Add(pair.Key);
            }
        }

        return topics;
    }

    internal void Unsubscribe(HubTopic entry, ChannelSubscription subscription)
    {
        if (entry.Remove(subscription))
        {
            // Only removes this very entry: a topic re-created meanwhile stays.
            _topics.TryRemove(new KeyValuePair<string, HubTopic>(entry.Name, entry));
        }
    }

    private static SharedFrame Encode(PhoenixSerializer serializer, string topic, string eventName, Snapshot snapshot)
    {
        var writer = JsonScratch.Begin();
        serializer.WriteBroadcast(writer, topic, eventName, snapshot.Json);
        return FrameWriter.EncodeShared(JsonScratch.End(writer), snapshot.Version);
    }

    private void Offer(ChannelSubscription subscriber, SharedFrame frame)
    {
        try
        {
            subscriber.Slot.Offer(frame);
        }
        catch (Exception ex)
        {
            // A broken sink must not stop the fan-out to the others.
            PhoenixLog.OfferFailed(logger, ex);
        }
    }
}
