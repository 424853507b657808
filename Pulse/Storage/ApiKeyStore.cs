using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Npgsql;

namespace Pulse.Storage;

/// <summary>What <see cref="ApiKeyStore.CheckAsync"/> found.</summary>
internal enum ApiKeyCheck
{
    /// <summary>An active key.</summary>
    Valid,

    /// <summary>Not an active key, as the database said at the latest read.</summary>
    Invalid,

    /// <summary>Not in the copy, and the database could not be asked (down, or never read since start-up).</summary>
    Unavailable,
}

/// <summary>
/// API keys: 256 random bits shown once, stored only as SHA-256. Requests are checked against an
/// in-memory copy of the active hashes (no statement per request), which follows the table: a key
/// revoked (<c>UPDATE … SET revoked_at</c>) or deleted stops working on every node within milliseconds
/// of the commit, a new key works as soon.
/// </summary>
/// <remarks>
/// <para>The copy is a <see cref="TableCopy{T}"/>: re-read on the NOTIFY of migration 003's trigger on
/// <c>api_keys</c> and whenever the LISTEN connection is (re)established; an unknown key causes at most
/// one re-read a second in total (a key used right after <c>pulse api-key create</c>, before the NOTIFY's
/// re-read, still works; a flood of bad keys costs one statement a second); and while keys are in use,
/// a copy older than a second is re-read in the background, so a NOTIFY lost on a half-dead LISTEN
/// connection delays a revocation by about a second, not until the connection is found dead.</para>
/// <para>Through a database outage the copy stays: known keys keep working, an unknown key gets
/// <see cref="ApiKeyCheck.Unavailable"/> (503, not a 401 that would tell a client its new key is bad),
/// and the re-reads back off (1 s doubling to 8 s).</para>
/// <para><b>Comparison.</b> The copy is a hash set of SHA-256 digests. Its lookup time depends on the
/// digest of the guess, which the guesser cannot steer toward a stored digest without a preimage, so it
/// leaks nothing usable about a stored key (the reason to compare digests, never the keys themselves).
/// Keys recently found valid are remembered with their digest (<see cref="MaxRemembered"/>), so a client
/// sending the same key again costs a dictionary lookup, not a SHA-256; the digest is still looked up
/// in the current copy every time, so a revocation applies to remembered keys at once. Only valid keys
/// are remembered: random keys cannot grow it.</para>
/// </remarks>
internal sealed class ApiKeyStore : ICatalog, IAsyncDisposable
{
    /// <summary>Keys remembered with their digest; past this the memory starts over (≈ 300 bytes a key).</summary>
    internal const int MaxRemembered = 1024;

    private const int MaxKeyLength = 256;
    private readonly TableCopy<HashSet<Digest>> _copy;
    private readonly ConcurrentDictionary<string, Digest> _remembered = new(StringComparer.Ordinal);

    public ApiKeyStore(NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger logger) =>
        _copy = new TableCopy<HashSet<Digest>>("api_keys", ct => ReadAsync(dataSource, ct), timeProvider, logger);

    public string Table => _copy.Table;

    /// <summary>The copy and its counters; for tests.</summary>
    internal TableCopy<HashSet<Digest>> Copy => _copy;

    /// <summary>Keys remembered with their digest; for tests of its bound.</summary>
    internal int RememberedCount => _remembered.Count;

    /// <summary>Creates a key, stores its hash and returns the key (base64url, 43 characters).</summary>
    public static async Task<string> CreateAsync(NpgsqlDataSource dataSource, string name, CancellationToken cancellationToken)
    {
        var key = Base64Url(RandomNumberGenerator.GetBytes(32));
        await using var command = dataSource.CreateCommand("INSERT INTO api_keys (name, key_hash) VALUES ($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Hash(key) });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return key;
    }

    /// <summary>Whether <paramref name="key"/> is an active key; no statement unless the copy lacks it.</summary>
    public ValueTask<ApiKeyCheck> CheckAsync(string key, CancellationToken cancellationToken)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            return ValueTask.FromResult(ApiKeyCheck.Invalid);
        }

        bool remembered = _remembered.TryGetValue(key, out var digest);
        if (!remembered)
        {
            digest = Digest.Of(key);
        }

        if (_copy.Current is { } hashes && hashes.Contains(digest))
        {
            _copy.Touch();
            if (!remembered)
            {
                Remember(key, digest);
            }

            return ValueTask.FromResult(ApiKeyCheck.Valid);
        }

        return MissAsync(key, digest, cancellationToken);
    }

    /// <inheritdoc />
    public void Invalidate() => _copy.Invalidate();

    /// <summary>Reads the active keys now (start-up: a node that later loses the database still knows them).</summary>
    public Task<bool> LoadAsync() => _copy.LoadAsync();

    public ValueTask DisposeAsync() => _copy.DisposeAsync();

    internal static byte[] Hash(string key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    private async ValueTask<ApiKeyCheck> MissAsync(string key, Digest digest, CancellationToken cancellationToken)
    {
        bool trusted = await _copy.MissAsync(cancellationToken);
        if (_copy.Current is { } hashes && hashes.Contains(digest))
        {
            Remember(key, digest);
            return ApiKeyCheck.Valid;
        }

        return trusted ? ApiKeyCheck.Invalid : ApiKeyCheck.Unavailable;
    }

    private void Remember(string key, Digest digest)
    {
        if (_remembered.Count >= MaxRemembered)
        {
            _remembered.Clear();
        }

        _remembered[key] = digest;
    }

    private static async Task<HashSet<Digest>> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var hashes = new HashSet<Digest>();
        await using var command = dataSource.CreateCommand("SELECT key_hash FROM api_keys WHERE revoked_at IS NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // The schema checks length(key_hash) = 32.
            hashes.Add(Digest.From(reader.GetFieldValue<byte[]>(0)));
        }

        return hashes;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A SHA-256 digest as four words: a set key that compares without allocating.</summary>
    internal readonly record struct Digest(ulong A, ulong B, ulong C, ulong D)
    {
        public static Digest Of(string key)
        {
            // UTF-8 takes at most 3 bytes per UTF-16 unit (a lone surrogate becomes U+FFFD): 768 bytes.
            Span<byte> utf8 = stackalloc byte[MaxKeyLength * 3];
            int length = System.Text.Encoding.UTF8.GetBytes(key, utf8);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(utf8[..length], hash);
            return From(hash);
        }

        public static Digest From(ReadOnlySpan<byte> hash)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(hash);
            return new Digest(words[0], words[1], words[2], words[3]);
        }

        // A digest is uniformly distributed: one word is as good a hash code as any mix of four.
        public override int GetHashCode() => (int)A;
    }
}
