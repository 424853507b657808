using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Http.Api;

namespace Pulse.Tests.Http;

/// <summary>API keys: only hashes at rest; a key created while the server runs works within the refresh interval.</summary>
/// <remarks>Constant-time comparison (<c>ApiKeyStore.Contains</c>) is checked in code review, not here: timing tests are flaky.</remarks>
public sealed class ApiKeyTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task CreateApiKey_Stored_OnlyItsSha256()
    {
        var key = await database.CreateApiKeyAsync("hash check");
        Assert.Equal(43, key.Length);

        await using var command = database.DataSource.CreateCommand("SELECT to_jsonb(k)::text, key_hash FROM api_keys k WHERE name = 'hash check'");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var row = reader.GetString(0);
        var hash = reader.GetFieldValue<byte[]>(1);
        Assert.DoesNotContain(key, row, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.UTF8.GetBytes(key)), row, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), hash);
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Key_CreatedAfterStartAndAfterAMiss_WorksWithinRefreshInterval()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        // A failed lookup first: it refreshes the server's copy, so the new key below is only
        // seen after the next refresh, which is what the 1 s interval promises.
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");
        using (var miss = await client.GetAsync(Path("/v1/events")))
        {
            await ErrorAsync(miss, HttpStatusCode.Unauthorized);
        }

        var key = await database.CreateApiKeyAsync("late");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var started = DateTime.UtcNow;
        HttpStatusCode status;
        do
        {
            using var response = await client.GetAsync(Path("/v1/events"));
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(100);
            }
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow - started < TimeSpan.FromSeconds(3));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), $"took {DateTime.UtcNow - started}");
    }

    [Fact]
    public async Task Key_Revoked_Rejected()
    {
        var key = await database.CreateApiKeyAsync("revoked");
        await database.ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE name = 'revoked'");
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.GetAsync(Path("/v1/events"));
        await ErrorAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Key_LowerCaseBearerScheme_Accepted()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "bearer " + server.ApiKey);
        using var response = await client.GetAsync(Path("/v1/events"));
        await JsonAsync(response, HttpStatusCode.OK);
    }
}
