using System.Text;
using Pulse.Storage;
using Pulse.Testing.Frames;

namespace Pulse.Benchmarks;

/// <summary>Inputs shared by the benchmarks and their smoke tests: wire bytes and a realistic view model.</summary>
internal static class BenchmarkData
{
    /// <summary>Two hours of one point a minute.</summary>
    public const int PointsPerSide = 120;

    public const string Topic = "event:5f0c3e9a-7b1d-4c2e-9a8f-0d6b2e4c1a77";

    // A fixed key, not random: the same bytes every run (RFC 6455 §5.3 only asks clients to vary it).
    private const uint MaskKey = 0x5A_3C_96_E1;

    /// <summary>V2 join as phoenix.js sends it (join_ref = ref).</summary>
    public static byte[] JoinMessage() => Encoding.UTF8.GetBytes($$"""["3","3","{{Topic}}","phx_join",{}]""");

    /// <summary>V2 heartbeat as phoenix.js sends it.</summary>
    public static byte[] HeartbeatMessage() => """[null,"12345","phoenix","heartbeat",{}]"""u8.ToArray();

    /// <summary>Printable ASCII of the given length (valid UTF-8, as a text frame must be).</summary>
    public static byte[] TextPayload(int length)
    {
        var payload = new byte[length];
        for (int i = 0; i < length; i++)
        {
            payload[i] = (byte)(' ' + (i % 95));
        }

        return payload;
    }

    /// <summary>A whole client text frame: FIN=1, Text(0x1), MASK=1, 7- or 16-bit length, key, masked payload.</summary>
    public static byte[] MaskedClientTextFrame(ReadOnlySpan<byte> payload) =>
        // The key is read in machine order (FrameHeader.MaskKey), so write it the same way.
        ClientFrames.Build(FrameOpcode.Fin | FrameOpcode.Text, payload, mask: BitConverter.GetBytes(MaskKey));

    /// <summary>
    /// A two-hour battle with three sides (docs/design.md §5): 120 one-minute points each, counts of 0–99
    /// a minute (a busy match: up to two digits per point, as the size estimate assumes).
    /// </summary>
    public static ViewModel BattleViewModel()
    {
        var start = new DateTime(2026, 11, 27, 20, 0, 0, DateTimeKind.Utc);
        string[] sides = ["Barça", "Draw", "Madrid"];
        var queries = new QuerySeries[sides.Length];
        int total = 0;
        for (int s = 0; s < sides.Length; s++)
        {
            var minutes = new int[PointsPerSide];
            for (int m = 0; m < minutes.Length; m++)
            {
                // Deterministic spread over 0..99: (m * 37 + s * 11) mod 100.
                minutes[m] = ((m * 37) + (s * 11)) % 100;
            }

            int count = minutes.Sum();
            total += count;
            queries[s] = new QuerySeries(sides[s], count, minutes);
        }

        return new ViewModel
        {
            EventId = Guid.Parse(Topic["event:".Length..]),
            Name = "Barça vs Madrid",
            StartAt = start,
            EndAt = start.AddHours(2),
            Total = total,
            FirstMinute = start,
            Queries = queries,
        };
    }

    public static DateTime ComputedAt => new(2026, 11, 27, 22, 0, 0, 512, DateTimeKind.Utc);

    public static byte[] ViewModelJson() => Storage.ViewModelJson.Serialize(BattleViewModel(), 42, ComputedAt);
}
