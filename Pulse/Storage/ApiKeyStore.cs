using System.Security.Cryptography;
using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// API keys: 256 random bits shown once, stored only as SHA-256. Verification runs against an
/// in-memory copy of the hashes (a request costs no query); a hash not in the copy re-reads the
/// table at most once per <see cref="RefreshInterval"/>, so a key created by <c>pulse api-key create</c>
/// on another process works within a second and a flood of bad keys costs one query a second.
/// </summary>
internal sealed class ApiKeyStore(NpgsqlDataSource dataSource, TimeProvider timeProvider) : IDisposable
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile byte[][] _hashes = [];
    private long _lastRefresh = long.MinValue;

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

    /// <summary>True when <paramref name="key"/> is an active key.</summary>
    public async ValueTask<bool> IsValidAsync(string key, CancellationToken cancellationToken)
    {
        if (key.Length is 0 or > 256)
        {
            return false;
        }

        var hash = Hash(key);
        if (Contains(_hashes, hash))
        {
            return true;
        }

        await RefreshAsync(throttled: true, cancellationToken);
        return Contains(_hashes, hash);
    }

    /// <summary>Reads the active keys now (at start-up: a node that later loses the database still knows them).</summary>
    /// <remarks>Does not count as a refresh: a key created right after start-up is still read on its first use.</remarks>
    public Task LoadAsync(CancellationToken cancellationToken) => RefreshAsync(throttled: false, cancellationToken);

    public void Dispose() => _refreshLock.Dispose();

    internal static byte[] Hash(string key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    // Every stored hash is compared in full with FixedTimeEquals, whether or not one matched already:
    // the time taken does not tell an attacker how many bytes of a guess were right.
    private static bool Contains(byte[][] hashes, byte[] hash)
    {
        bool found = false;
        foreach (var candidate in hashes)
        {
            found |= CryptographicOperations.FixedTimeEquals(candidate, hash);
        }

        return found;
    }

    private async Task RefreshAsync(bool throttled, CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            long now = timeProvider.GetTimestamp();
            if (throttled && _lastRefresh != long.MinValue && timeProvider.GetElapsedTime(_lastRefresh, now) < RefreshInterval)
            {
                return;
            }

            var hashes = new List<byte[]>();
            await using var command = dataSource.CreateCommand("SELECT key_hash FROM api_keys WHERE revoked_at IS NULL");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hashes.Add(reader.GetFieldValue<byte[]>(0));
            }

            _hashes = [.. hashes];
            if (throttled)
            {
                _lastRefresh = now;
            }
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
