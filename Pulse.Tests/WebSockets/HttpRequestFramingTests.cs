using System.Buffers;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// <see cref="HttpRequestFraming"/> on byte arrays: where each request ends (RFC 9112 §6.3, §7.1), however the
/// bytes arrive (at once, a byte at a time, in uneven pieces, in one-byte segments), and every case where it must
/// stop following.
/// </summary>
[Trait("Category", "unit")] public sealed class HttpRequestFramingTests
{
    private const string Get = "GET /v1/events/1 HTTP/1.1\r\nHost: a\r\n\r\n";
    private const string Head = "HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    private const string PostLength = "POST /v1/events HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
    private const string PostChunked =
        "POST /v1/events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\nhello\r\n"                // chunk-size CRLF chunk-data CRLF
        + "6;name=value\r\n world\r\n"    // a chunk extension (§7.1.1)
        + "0\r\nX-Trailer: 1\r\n\r\n";    // last-chunk, one trailer field, the final CRLF

    public static TheoryData<string, string[]> Streams => new()
    {
        { "one GET", [Get] },
        { "pipelined GETs", [Get, Get, Get] },
        { "HEAD then GET", [Head, Get] },
        { "POST with Content-Length", [PostLength, Get] },
        { "POST with Content-Length: 0", ["POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", Get] },
        { "chunked POST with extension and trailer", [PostChunked, Get] },
        { "chunked POST, codings gzip then chunked", ["POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Get] },
        { "chunked in the last of two Transfer-Encoding fields", ["POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: CHUNKED\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", Get] },
        { "field names in any case, OWS around values", ["POST /x HTTP/1.1\r\ncontent-LENGTH: \t3 \r\n\r\nabc", Get] },
        { "bare LF line ends", ["POST /x HTTP/1.1\nContent-Length: 2\n\nok", Get] },
        { "a body holding CRLFCRLF and a request line", ["POST /x HTTP/1.1\r\nContent-Length: 22\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", Get] },
        { "Connection: close and keep-alive are not upgrades", ["GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", Get] },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void TryReadToNextHead_AnyArrival_FindsEveryHeadStart(string name, string[] requests)
    {
        var bytes = Encoding.ASCII.GetBytes(string.Concat(requests));
        var expected = HeadStarts(requests);

        foreach (var (how, arrivals) in Arrivals(bytes.Length))
        {
            foreach (int segment in new[] { int.MaxValue, 1, 7 })
            {
                var (starts, consumed, framing) = Follow(bytes, arrivals, segment);
                Assert.True(expected.SequenceEqual(starts), $"{name}, {how}, segments of {segment}: heads at [{string.Join(", ", starts)}], expected [{string.Join(", ", expected)}]");
                Assert.Equal(bytes.Length, consumed);
                Assert.True(framing.IsTracking, name);
                Assert.Equal(requests.Length, framing.Requests);
            }
        }
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("\r\n\r\n\n")]
    public void TryReadToNextHead_EmptyLinesBetweenRequests_SkippedAsKestrelDoes(string blank)
    {
        var bytes = Encoding.ASCII.GetBytes(Get + blank + Get);

        var (starts, consumed, _) = Follow(bytes, [bytes.Length], int.MaxValue);

        Assert.Equal([0, Get.Length + blank.Length], starts);
        Assert.Equal(bytes.Length, consumed);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a", "GET / HTTP/1.1\r\n")]                     // an incomplete line stays unread
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n")]      // before the empty line
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc")] // body bytes as they come
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n")]
    public void TryReadToNextHead_IncompleteRequest_ReadsWhatIsCompleteAndWaits(string partial, string read)
    {
        var framing = new HttpRequestFraming();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(partial)));
        Assert.True(framing.TryReadToNextHead(ref reader));
        framing.StartHead();

        bool head = framing.TryReadToNextHead(ref reader);

        Assert.False(head);
        Assert.True(framing.IsTracking);
        Assert.Equal(read.Length, reader.Consumed);
    }

    public static TheoryData<string, string> Unfollowable => new()
    {
        { "two Content-Length fields", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na" },
        { "a list as Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\na" },
        { "a negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n" },
        { "an empty Content-Length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n" },
        { "19 digits of Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n" },
        { "a final coding other than chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" },
        { "Transfer-Encoding with Content-Length", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n" },
        { "an upgrade to something else", "GET /chat HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" },
        { "CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" },
        { "a chunk size that is not hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" },
        { "an empty chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n" },
        { "16 hex digits of chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n" },
        { "junk after the chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n" },
        { "chunk data not followed by CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n" },
        { "chunk data followed by a lone CR and junk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\rx0\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(Unfollowable))]
    public void TryReadToNextHead_RequestItCannotFollow_StopsTrackingForGood(string name, string request)
    {
        var bytes = Encoding.ASCII.GetBytes(request + Get);
        var framing = new HttpRequestFraming();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(framing.TryReadToNextHead(ref reader));
        framing.StartHead();

        bool head = framing.TryReadToNextHead(ref reader);

        Assert.False(head, name);
        Assert.False(framing.IsTracking, name);
        Assert.True(reader.End, name);
        var later = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(Get)));
        Assert.False(framing.TryReadToNextHead(ref later));
        Assert.True(later.End);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public void TryReadToNextHead_HeadAroundMaxHeadBytes_FollowedUpToTheLimit(int overLimit, bool tracked)
    {
        // "GET / HTTP/1.1\r\n" + "X-Pad: …\r\n" + "\r\n": the limit counts every line with its line end.
        const string start = "GET / HTTP/1.1\r\n";
        int pad = HttpRequestFraming.MaxHeadBytes + overLimit - start.Length - "X-Pad: \r\n\r\n".Length;
        var head = start + "X-Pad: " + new string('a', pad) + "\r\n\r\n";
        Assert.Equal(HttpRequestFraming.MaxHeadBytes + overLimit, head.Length);
        var bytes = Encoding.ASCII.GetBytes(head + Get);

        var (starts, _, framing) = Follow(bytes, [bytes.Length], 4096);

        Assert.Equal(tracked, framing.IsTracking);
        Assert.Equal(tracked ? [0, head.Length] : [0], starts);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public void TryReadToNextHead_IncompleteLineAroundMaxHeadBytes_WaitsUpToTheLimit(int overLimit, bool tracked)
    {
        var bytes = Encoding.ASCII.GetBytes("GET /" + new string('a', HttpRequestFraming.MaxHeadBytes + overLimit - 5));
        var framing = new HttpRequestFraming();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(framing.TryReadToNextHead(ref reader));
        framing.StartHead();

        Assert.False(framing.TryReadToNextHead(ref reader));

        Assert.Equal(tracked, framing.IsTracking);
        Assert.Equal(tracked ? 0 : bytes.Length, reader.Consumed);
    }

    [Fact]
    public void TryReadToNextHead_LongHeadArrivingAByteAtATime_SearchesEachByteOnce()
    {
        // A slow client's 60 KiB line a byte at a time: resuming where the last search stopped keeps this linear
        // (a fresh search each time would compare ~1.8 billion bytes and take seconds).
        var bytes = Encoding.ASCII.GetBytes("GET /" + new string('a', 60_000) + " HTTP/1.1\r\n\r\n" + Get);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (starts, consumed, _) = Follow(bytes, [.. Enumerable.Range(1, bytes.Length)], int.MaxValue);

        Assert.Equal([0, bytes.Length - Get.Length], starts);
        Assert.Equal(bytes.Length, consumed);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void StartHead_NotAtABoundary_Throws()
    {
        var framing = new HttpRequestFraming();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n")));
        Assert.True(framing.TryReadToNextHead(ref reader));
        framing.StartHead();

        Assert.Throws<InvalidOperationException>(framing.StartHead);
    }

    private static List<long> HeadStarts(string[] requests)
    {
        var starts = new List<long>();
        long at = 0;
        foreach (var request in requests)
        {
            starts.Add(at);
            at += request.Length;
        }

        return starts;
    }

    /// <summary>
    /// Plays the transport: bytes arrive up to each of <paramref name="arrivals"/>; each call reads on from the
    /// first unread byte; every head found is recorded (absolute offset) and started.
    /// </summary>
    private static (List<long> Starts, long Consumed, HttpRequestFraming Framing) Follow(byte[] bytes, int[] arrivals, int segmentBytes)
    {
        var framing = new HttpRequestFraming();
        var starts = new List<long>();
        long unread = 0;
        foreach (int end in arrivals)
        {
            var reader = new SequenceReader<byte>(Segmented(bytes.AsMemory((int)unread, end - (int)unread), segmentBytes));
            while (framing.TryReadToNextHead(ref reader))
            {
                starts.Add(unread + reader.Consumed);
                framing.StartHead();
            }

            unread += reader.Consumed;
        }

        return (starts, unread, framing);
    }

    private static IEnumerable<(string How, int[] Arrivals)> Arrivals(int length)
    {
        yield return ("at once", [length]);
        yield return ("a byte at a time", [.. Enumerable.Range(1, length)]);
        var random = new Random(length);
        var uneven = new List<int>();
        for (int at = random.Next(1, 9); at < length; at += random.Next(1, 9))
        {
            uneven.Add(at);
        }

        uneven.Add(length);
        yield return ("in uneven pieces", [.. uneven]);
    }

    private static ReadOnlySequence<byte> Segmented(ReadOnlyMemory<byte> bytes, int segmentBytes) => Infrastructure.Sequences.Segmented(bytes, segmentBytes);
}
