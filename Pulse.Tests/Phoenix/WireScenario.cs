using System.Net;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Phoenix;

/// <summary>Events, tweets, notifications and the SQL ground truth for the wire tests.</summary>
internal static class WireScenario
{
    /// <summary>A running event (started 10 minutes ago, ends in an hour) with two sides of two hashtags.</summary>
    public static async Task<(Guid EventId, Dictionary<string, Guid> Keywords)> RunningEventAsync(TestDatabase database)
    {
        var now = DateTime.UtcNow;
        var created = await database.CreateEventAsync(
            "Wire", now.AddMinutes(-10), now.AddHours(1), ("Barça", "#ForçaBarça"), ("Barça", "#Visca"), ("Madrid", "#HalaMadrid"), ("Madrid", "#RM"));
        await database.InsertEntryAsync(now.AddMinutes(-9), created.Keywords["#ForçaBarça"]);
        await database.InsertEntryAsync(now.AddMinutes(-5), created.Keywords["#Visca"], created.Keywords["#RM"]);
        await database.InsertEntryAsync(now.AddMinutes(-1), created.Keywords["#HalaMadrid"]);
        return created;
    }

    /// <summary>The numbers of docs/design.md §5 written independently of the server's query.</summary>
    public static async Task<(int Total, string Queries)> SqlCountsAsync(TestDatabase database, Guid eventId)
    {
        int total = (int)await database.ScalarAsync<long>(
            """
            SELECT count(DISTINCT uek.uniq_entry_id) FROM events e
            JOIN keywords k ON k.event_id = e.id
            JOIN uniq_entry_keywords uek ON uek.keyword_id = k.id AND uek.created_at >= e.start_at AND uek.created_at < e.end_at
            WHERE e.id = $1
            """, eventId);
        string queries = await database.ScalarAsync<string>(
            """
            SELECT string_agg(query || '=' || n, ',' ORDER BY query COLLATE "C") FROM (
              SELECT k.query, count(DISTINCT uek.uniq_entry_id) AS n FROM events e
              JOIN keywords k ON k.event_id = e.id
              LEFT JOIN uniq_entry_keywords uek ON uek.keyword_id = k.id AND uek.created_at >= e.start_at AND uek.created_at < e.end_at
              WHERE e.id = $1 GROUP BY k.query) q
            """, eventId);
        return (total, queries);
    }

    /// <summary>Asserts a view model carries the SQL numbers, and each side's minutes add up to its count.</summary>
    public static async Task AssertModelEqualsSqlAsync(TestDatabase database, Guid eventId, JsonElement model)
    {
        var (total, queries) = await SqlCountsAsync(database, eventId);
        Assert.Equal(eventId.ToString("D"), model.GetProperty("event_id").GetString());
        Assert.Equal(total, model.GetProperty("total").GetInt32());
        var sides = model.GetProperty("queries").EnumerateArray().ToList();
        Assert.Equal(queries, string.Join(',', sides.Select(q => $"{q.GetProperty("query").GetString()}={q.GetProperty("count").GetInt32()}")));
        foreach (var side in sides)
        {
            Assert.Equal(side.GetProperty("count").GetInt32(), side.GetProperty("time_series").EnumerateArray().Sum(p => p.GetProperty("count").GetInt32()));
        }
    }

    /// <summary><c>POST /v1/events</c> as a background job does after its INSERTs; expects 204.</summary>
    public static async Task NotifyAsync(TestServer server, Guid eventId, string name)
    {
        var body = $$$"""{"topic":"event:{{{eventId}}}","event":"{{{name}}}","payload":{"event_id":"{{{eventId}}}"}}""";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync(new Uri("/v1/events", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>A V2 broadcast on the topic: <c>[null,null,topic,NAME,model]</c>.</summary>
    public static bool IsBroadcast(InboxMessage message, string topic, string name) =>
        message.Json.ValueKind == JsonValueKind.Array && message.Json.GetArrayLength() == 5
        && message.JoinRef is null && message.Ref is null && message.Topic == topic && message.Event == name;
}
