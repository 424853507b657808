using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pulse.Storage;

/// <summary>
/// The entries counted on one side of a battle: entry id → the minute of its earliest link on that side
/// (docs/design.md §18). Open addressing with linear probing over one array of 20-byte slots (the id's
/// 16 bytes and the minute), no per-entry object. The array grows by half when it is 80 % full, so the
/// load factor stays between 0.53 and 0.8 and an entry costs 25 to 37.5 bytes; the garbage collector
/// sees one array, not a million nodes.
/// </summary>
/// <remarks>Not thread-safe: the snapshot service touches a table only under its event's gate.</remarks>
internal sealed class EntryTable
{
    private const int MinimumCapacity = 16;
    private const int MaximumCapacity = 0x7FFFFFC7; // Array.MaxLength

    // Slot.MinutePlusOne == 0 marks a free slot, so a new array is an empty table.
    private Slot[] _slots;

    /// <summary>A table with room for <paramref name="expected"/> entries before it grows (at 62.5 % load).</summary>
    public EntryTable(int expected = 0) =>
        _slots = new Slot[(int)Math.Clamp(expected * 8L / 5, MinimumCapacity, MaximumCapacity)];

    /// <summary>Entries held.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes of the slot array.</summary>
    public long Bytes => (long)_slots.Length * Unsafe.SizeOf<Slot>();

    /// <summary>
    /// The entry's minute, or -1 when the entry is not in the table.
    /// </summary>
    public int MinuteOf(Guid entry)
    {
        var (hi, lo) = Split(entry);
        for (int i = Home(hi, lo, _slots.Length); ; i = Next(i))
        {
            ref var slot = ref _slots[i];
            if (slot.MinutePlusOne == 0)
            {
                return -1;
            }

            if (slot.Hi == hi && slot.Lo == lo)
            {
                return slot.MinutePlusOne - 1;
            }
        }
    }

    /// <summary>
    /// Records a link of <paramref name="entry"/> in <paramref name="minute"/> (≥ 0). Returns the minute the
    /// entry had before: -1 when it is new (added), or its old minute (lowered to <paramref name="minute"/>
    /// when that is earlier, else left as it was).
    /// </summary>
    public int Fold(Guid entry, int minute)
    {
        if ((Count + 1) * 5L > _slots.Length * 4L)
        {
            Grow();
        }

        var (hi, lo) = Split(entry);
        for (int i = Home(hi, lo, _slots.Length); ; i = Next(i))
        {
            ref var slot = ref _slots[i];
            if (slot.MinutePlusOne == 0)
            {
                slot = new Slot(hi, lo, minute + 1);
                Count++;
                return -1;
            }

            if (slot.Hi == hi && slot.Lo == lo)
            {
                int old = slot.MinutePlusOne - 1;
                if (minute < old)
                {
                    slot.MinutePlusOne = minute + 1;
                }

                return old;
            }
        }
    }

    /// <summary>Calls <paramref name="visit"/> with every entry and its minute, in no particular order.</summary>
    public void ForEach<TState>(ref TState state, EntryVisitor<TState> visit)
        where TState : allows ref struct
    {
        foreach (ref readonly var slot in _slots.AsSpan())
        {
            if (slot.MinutePlusOne != 0)
            {
                visit(ref state, Join(slot.Hi, slot.Lo), slot.MinutePlusOne - 1);
            }
        }
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[(int)Math.Min(old.Length + (old.Length / 2L), MaximumCapacity)];
        foreach (ref readonly var slot in old.AsSpan())
        {
            if (slot.MinutePlusOne == 0)
            {
                continue;
            }

            int i = Home(slot.Hi, slot.Lo, _slots.Length);
            while (_slots[i].MinutePlusOne != 0)
            {
                i = Next(i);
            }

            _slots[i] = slot;
        }
    }

    private static (ulong Hi, ulong Lo) Split(Guid entry)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = entry.TryWriteBytes(bytes);
        return (MemoryMarshal.Read<ulong>(bytes), MemoryMarshal.Read<ulong>(bytes[8..]));
    }

    private static Guid Join(ulong hi, ulong lo)
    {
        Span<byte> bytes = stackalloc byte[16];
        MemoryMarshal.Write(bytes, in hi);
        MemoryMarshal.Write(bytes[8..], in lo);
        return new Guid(bytes);
    }

    // Entry ids are random in practice (gen_random_uuid), but writers may use time-ordered ones (UUIDv7):
    // a 64-bit finalizer (splitmix64's) spreads either over the whole table. The capacity is no power of
    // two, so the hash's top 32 bits are scaled to it (a multiply and a shift, not a division).
    private static int Home(ulong hi, ulong lo, int capacity)
    {
        ulong x = hi ^ (lo * 0x9E3779B97F4A7C15UL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (int)(((x >> 32) * (ulong)capacity) >> 32);
    }

    private int Next(int i) => ++i == _slots.Length ? 0 : i;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct Slot(ulong hi, ulong lo, int minutePlusOne)
    {
        public readonly ulong Hi = hi;
        public readonly ulong Lo = lo;
        public int MinutePlusOne = minutePlusOne;
    }
}

/// <summary>One entry of an <see cref="EntryTable"/> and its minute.</summary>
internal delegate void EntryVisitor<TState>(ref TState state, Guid entry, int minute)
    where TState : allows ref struct;
