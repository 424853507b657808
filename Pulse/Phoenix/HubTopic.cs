using System.Buffers;

namespace Pulse.Phoenix;

/// <summary>One topic's subscribers; all mutable state is guarded by <c>_gate</c>.</summary>
internal sealed class HubTopic(string name)
{
    private readonly Lock _gate = new();
    private ChannelSubscription[] _items = new ChannelSubscription[4];
    private int _count;
    private int _v1Count;
    private bool _dead;

    public string Name { get; } = name;

    /// <summary>The event of an <c>event:&lt;uuid&gt;</c> topic, read once when the topic is created; null for another topic.</summary>
    public Guid? EventId { get; } = EventTopic.TryParse(name, out var eventId) ? eventId : null;

    public int Count => Volatile.Read(ref _count);

    /// <summary><c>false</c> when this topic was emptied and removed: the caller takes a fresh one.</summary>
    public bool TryAdd(ChannelSubscription subscription)
    {
        lock (_gate)
        {
            if (_dead)
            {
                return false;
            }

            if (_count == _items.Length)
            {
                Array.Resize(ref _items, _items.Length * 2);
            }

            subscription.Attach(this, _count);
            _items[_count] = subscription;
            _count++;
            if (subscription.Version == PhoenixVersion.V1)
            {
                _v1Count++;
            }

            return true;
        }
    }

    /// <summary>Swap-removes; <c>true</c> when the topic became empty (and is now dead).</summary>
    public bool Remove(ChannelSubscription subscription)
    {
        lock (_gate)
        {
            int index = subscription.Index;
            if (index < 0 || index >= _count || !ReferenceEquals(_items[index], subscription))
            {
                return false;
            }

            int last = _count - 1;
            var moved = _items[last];
            _items[index] = moved;
            moved.Index = index;
            _items[last] = null!;
            _count = last;
            subscription.Index = -1;
            if (subscription.Version == PhoenixVersion.V1)
            {
                _v1Count--;
            }

            if (_count == 0)
            {
                _dead = true;
                _items = [];
                return true;
            }

            return false;
        }
    }

    /// <summary>
    /// A pooled copy of the subscribers, to return to <see cref="ArrayPool{T}.Shared"/>;
    /// <c>null</c> when there are none.
    /// </summary>
    public ChannelSubscription[]? CopySubscribers(out int count, out int v1Count)
    {
        lock (_gate)
        {
            count = _count;
            v1Count = _v1Count;
            if (count == 0)
            {
                return null;
            }

            var copy = ArrayPool<ChannelSubscription>.Shared.Rent(count);
            Array.Copy(_items, copy, count);
            return copy;
        }
    }
}
