using System.Net;
using System.Net.Http.Json;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// Classes that time deliveries against wall-clock windows, or measure a process's memory or CPU, on a
/// 2-core machine: they run alone, after the parallel collections; each says why it is here. Counting is
/// no reason: every server (and every component under test) has its own instruments.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialPipeline
{
    public const string Name = "Pipeline (serial)";
}

/// <summary>Shared steps of the pipeline tests: POST, rows, independent counts, statement statistics.</summary>
internal static class PipelineKit
{
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    public static string Topic(Guid eventId) => "event:" + eventId.ToString("D");

    /// <summary>An event that ended an hour ago: the minute refresh never marks it, so no statement runs unless a test causes it.</summary>
    public static (DateTime Start, DateTime End) EndedWindow(TimeSpan length)
    {
        var end = DateTime.UtcNow.AddHours(-1);
        end = new DateTime(end.Ticks - (end.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
        return (end - length, end);
    }

    public static async Task PostAsync(TestServer server, Guid eventId, string name)
    {
        string id = eventId.ToString("D");
        using var response = await server.Client.PostAsJsonAsync("/v1/events", new { topic = "event:" + id, @event = name, payload = new { event_id = id } });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>Total and per-side counts written independently of the server's statement.</summary>
    public static async Task<(int Total, Dictionary<string, int> Sides)> IndependentCountsAsync(TestDatabase database, Guid eventId)
    {
        const string Window = "JOIN keywords k ON k.id = l.keyword_id JOIN events e ON e.id = k.event_id WHERE e.id = $1 AND l.created_at >= e.start_at AND l.created_at < e.end_at";
        int total = (int)await database.ScalarAsync<long>($"SELECT count(DISTINCT l.uniq_entry_id) FROM uniq_entry_keywords l {Window}", eventId);
        var sides = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var command = database.DataSource.CreateCommand($"SELECT k.query, count(DISTINCT l.uniq_entry_id) FROM uniq_entry_keywords l {Window} GROUP BY k.query");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = eventId });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            sides[reader.GetString(0)] = (int)reader.GetInt64(1);
        }

        return (total, sides);
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; false when it never did.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    public static double Milliseconds(long fromTimestamp, long toTimestamp) =>
        (toTimestamp - fromTimestamp) * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
}
