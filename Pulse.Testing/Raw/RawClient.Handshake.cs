using System.Security.Cryptography;
using System.Text;
using Pulse.Testing.Frames;
using Pulse.Testing.Phoenix;

namespace Pulse.Testing.Raw;

internal sealed partial class RawClient
{
    /// <summary>The key of RFC 6455 §1.3's example, whose accept value is known.</summary>
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>RFC 6455 §1.3: the GUID the server appends to the key before hashing.</summary>
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Thrown when the server answers the upgrade with anything but a valid 101.</summary>
    internal sealed class HandshakeException(string message) : Exception(message);

    /// <summary>An upgrade request head; an empty <paramref name="key"/> leaves the header out.</summary>
    public static string UpgradeRequest(string extraHeaders = "", string key = SampleKey, string version = "13", string path = "/socket/websocket?vsn=2.0.0", string host = "localhost") =>
        $"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        + (key.Length > 0 ? $"Sec-WebSocket-Key: {key}\r\n" : string.Empty)
        + $"Sec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n";

    /// <summary>
    /// Upgrades with a fresh key (§4.1: 16 random bytes, base64) and checks the 101 and its
    /// <c>Sec-WebSocket-Accept</c>. <paramref name="plainRequestFirst"/>: a <c>GET /healthz</c> (answered
    /// and read) before, on the same connection, as nginx's kept-alive upstream connections bring them.
    /// </summary>
    public async Task UpgradeAsync(string path = "/socket/websocket?vsn=2.0.0", string host = "localhost", bool plainRequestFirst = false, CancellationToken cancellationToken = default)
    {
        if (plainRequestFirst)
        {
            await SendAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), cancellationToken);
            string answer = await ReadResponseAsync(cancellationToken);
            if (!answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                throw new HandshakeException("GET /healthz before the upgrade: " + answer.Split("\r\n")[0]);
            }
        }

        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await SendAsync(Encoding.ASCII.GetBytes(UpgradeRequest(key: key, path: path, host: host)), cancellationToken);
        CheckUpgradeResponse(await ReadResponseHeadAsync(cancellationToken), key);
    }

    /// <summary>
    /// Upgrades, joins <paramref name="topic"/> (V2, through <see cref="PhoenixV2Codec"/>) and reads the
    /// join reply frame; throws unless it is <c>ok</c>. Returns the reply's text.
    /// </summary>
    public async Task<string> UpgradeAndJoinAsync(string topic, string joinRef = "1")
    {
        await UpgradeAsync();
        await SendAsync(ClientFrames.Build(FrameOpcode.Fin | FrameOpcode.Text, PhoenixV2Codec.Encode(joinRef, joinRef, topic, "phx_join")));
        var (_, payload) = await ReadFrameAsync();
        if (!PhoenixV2Codec.TryDecode(payload, out var reply) || reply.Ref != joinRef || reply.Status != "ok")
        {
            throw new HandshakeException($"join of {topic} not answered ok: {Encoding.UTF8.GetString(payload)}");
        }

        return Encoding.UTF8.GetString(payload);
    }

    private static void CheckUpgradeResponse(string head, string key)
    {
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || status[1] != "101")
        {
            throw new HandshakeException("upgrade refused: " + lines[0]);
        }

#pragma warning disable CA5350 // RFC 6455 §4.2.2 fixes SHA-1 for Sec-WebSocket-Accept; it is not used for security here.
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                if (line.AsSpan(colon + 1).Trim().SequenceEqual(expected))
                {
                    return;
                }

                throw new HandshakeException("wrong Sec-WebSocket-Accept");
            }
        }

        throw new HandshakeException("no Sec-WebSocket-Accept in the 101 response");
    }
}
