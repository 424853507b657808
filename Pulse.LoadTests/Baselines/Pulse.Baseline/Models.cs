using System.Text.Json.Serialization;

namespace Pulse.Baseline;

internal sealed record Notification(
    [property: JsonPropertyName("topic")] string? Topic,
    [property: JsonPropertyName("event")] string? Event,
    [property: JsonPropertyName("payload")] NotificationPayload? Payload);

internal sealed record NotificationPayload([property: JsonPropertyName("event_id")] string? EventId);

internal sealed record ViewModel(
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("start_at")] DateTime StartAt,
    [property: JsonPropertyName("end_at")] DateTime EndAt,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("computed_at")] DateTime ComputedAt,
    [property: JsonPropertyName("queries")] List<QueryCount> Queries);

internal sealed record QueryCount(
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("time_series")] List<Point> TimeSeries);

internal sealed record Point(
    [property: JsonPropertyName("date")] DateTime Date,
    [property: JsonPropertyName("count")] long Count);
