using System.Net;
using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Http.Api;

namespace Pulse.Tests.Http;

/// <summary><c>GET /v1/events?page=&amp;per_page=</c> on a database holding exactly the events seeded here.</summary>
[Trait("Category", "socket")] public sealed class EventListTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const int Count = 205;
    private static readonly DateTime Base = new(2026, 11, 1, 20, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task List_NoParameters_FirstFiftyNewestFirstThenId()
    {
        var expected = await SeedAsync();
        await using var server = await TestServer.StartAsync(database);
        var body = await ListAsync(server, "");
        Assert.Equal(1, body.GetProperty("page").GetInt32());
        Assert.Equal(50, body.GetProperty("per_page").GetInt32());
        Assert.Equal(Count, body.GetProperty("total").GetInt64());
        Assert.Equal(expected.Take(50), Ids(body));
        var first = body.GetProperty("events")[0];
        Assert.Equal(["id", "name", "start_at", "end_at"], first.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task List_SecondPage_ContinuesTheOrder()
    {
        var expected = await SeedAsync();
        await using var server = await TestServer.StartAsync(database);
        var body = await ListAsync(server, "?page=2&per_page=7");
        Assert.Equal(expected.Skip(7).Take(7), Ids(body));
        Assert.Equal(7, body.GetProperty("per_page").GetInt32());
    }

    [Fact]
    public async Task List_PerPage200_Allowed()
    {
        var expected = await SeedAsync();
        await using var server = await TestServer.StartAsync(database);
        var body = await ListAsync(server, "?per_page=200");
        Assert.Equal(expected.Take(200), Ids(body));
        var last = await ListAsync(server, "?page=2&per_page=200");
        Assert.Equal(expected.Skip(200), Ids(last));
    }

    [Fact]
    public async Task List_PastTheEnd_EmptyWithTotal()
    {
        await SeedAsync();
        await using var server = await TestServer.StartAsync(database);
        var body = await ListAsync(server, "?page=99");
        Assert.Empty(body.GetProperty("events").EnumerateArray());
        Assert.Equal(Count, body.GetProperty("total").GetInt64());
        Assert.Equal(99, body.GetProperty("page").GetInt32());
    }

    [Theory]
    [InlineData("?per_page=201")]
    [InlineData("?per_page=0")]
    [InlineData("?page=0")]
    [InlineData("?page=-1")]
    [InlineData("?page=abc")]
    [InlineData("?per_page=1.5")]
    [InlineData("?page=")]
    [InlineData("?page=1&page=2")]
    [InlineData("?page=99999999999")]
    [InlineData("?sort=name")]
    public async Task List_BadParameters_Returns400(string query)
    {
        await using var server = await TestServer.StartAsync(database);
        using var response = await server.Client.GetAsync(Path("/v1/events" + query));
        await ErrorAsync(response, HttpStatusCode.BadRequest);
    }

    private static async Task<JsonElement> ListAsync(TestServer server, string query)
    {
        using var response = await server.Client.GetAsync(Path("/v1/events" + query));
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    private static IEnumerable<string> Ids(JsonElement body) => body.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!);

    /// <summary>
    /// Seeds once per class (tests of a class run one after another): events on 5 distinct start
    /// times, so most share a start and the id tie-break decides; returns ids in the expected order.
    /// </summary>
    private async Task<List<string>> SeedAsync()
    {
        if (await database.ScalarAsync<long>("SELECT count(*) FROM events") == 0)
        {
            for (int i = 0; i < Count; i++)
            {
                await database.ExecuteAsync("INSERT INTO events (id, name, start_at, end_at) VALUES ($1, $2, $3, $4)", Guid.NewGuid(), $"Battle {i}", Base.AddHours(i % 5), Base.AddHours((i % 5) + 2));
            }
        }

        // The order written independently: start descending, then uuid order as PostgreSQL sorts uuid (bytewise = text order).
        var rows = new List<(DateTime Start, string Id)>();
        await using var command = database.DataSource.CreateCommand("SELECT start_at, id::text FROM events");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetDateTime(0), reader.GetString(1)));
        }

        return [.. rows.OrderByDescending(r => r.Start).ThenBy(r => r.Id, StringComparer.Ordinal).Select(r => r.Id)];
    }
}
