using System.Text.Json.Serialization;

namespace Pulse.Http;

/// <summary>Every JSON type of the REST API, serialized by the source generator (AOT: no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(PostEventBody))]
[JsonSerializable(typeof(EventListBody))]
[JsonSerializable(typeof(StatusBody))]
internal sealed partial class PulseJsonContext : JsonSerializerContext;

internal sealed record ErrorBody(string Error);

internal sealed record StatusBody(string Status);

/// <summary><c>POST /v1/events</c>: <c>{"topic":"event:ID","event":"NAME","payload":{"event_id":"ID"}}</c>.</summary>
internal sealed class PostEventBody
{
    public string? Topic { get; set; }

    public string? Event { get; set; }

    public PostEventPayload? Payload { get; set; }
}

internal sealed class PostEventPayload
{
    public string? EventId { get; set; }
}

internal sealed record EventListBody(IReadOnlyList<EventListItem> Events, int Page, int PerPage, long Total);

internal sealed record EventListItem(string Id, string Name, string StartAt, string EndAt);
