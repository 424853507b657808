using System.Buffers;
using System.Text.Json;
using Pulse.Broadcasting;
using Pulse.Cluster;
using Pulse.Phoenix;
using Pulse.Storage;

namespace Pulse.Http;

/// <summary>The <c>/v1/events</c> routes of docs/design.md §6.</summary>
internal sealed class EventsEndpoints(SnapshotService snapshots, EventStore events, EventCatalog catalog, INotificationPublisher publisher, long maxBodyBytes)
{
    /// <summary><c>POST /v1/events</c>: validate, check the event exists (in memory: <see cref="EventCatalog"/>), hand over, 204.</summary>
    public async Task PostAsync(HttpContext context)
    {
        if (context.Request.ContentLength > maxBodyBytes)
        {
            await TooLargeAsync(context);
            return;
        }

        PostEventBody? body;
        try
        {
            body = await ReadBodyAsync(context);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await TooLargeAsync(context);
            return;
        }
        catch (JsonException)
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status400BadRequest, "body is not valid JSON of the form {\"topic\":\"event:ID\",\"event\":\"NAME\",\"payload\":{\"event_id\":\"ID\"}}");
            return;
        }

        if (Validate(body, out var eventId, out var eventName) is { } problem)
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status400BadRequest, problem);
            return;
        }

        if (!await catalog.ExistsAsync(eventId, context.RequestAborted))
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status404NotFound, "event not found");
            return;
        }

        // To every node, this one included (docs/design.md §9); never waits, never fails: see NotificationBus.
        publisher.Publish(new Notification(eventId, eventName));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary><c>GET /v1/events/{id}</c>: the cached view model, with a strong ETag.</summary>
    public async Task GetAsync(HttpContext context, string idText)
    {
        if (!Guid.TryParse(idText, out var id))
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status400BadRequest, "event id is not a UUID");
            return;
        }

        var snapshot = await snapshots.GetAsync(id, context.RequestAborted);
        if (snapshot is null)
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status404NotFound, "event not found");
            return;
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "max-age=3";
        headers.ETag = snapshot.ETag;
        if (EntityTags.Matches(context.Request.Headers.IfNoneMatch, snapshot.ETag))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = HttpResults.JsonContentType;
        context.Response.ContentLength = snapshot.Json.Length;
        await context.Response.Body.WriteAsync(snapshot.Json, context.RequestAborted);
    }

    /// <summary><c>GET /v1/events?page=&amp;per_page=</c>.</summary>
    public async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (!TryPositive(query, "page", 1, int.MaxValue / 200, out int page) || !TryPositive(query, "per_page", 50, 200, out int perPage))
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status400BadRequest, "page must be an integer >= 1 and per_page an integer from 1 to 200");
            return;
        }

        foreach (var key in query.Keys)
        {
            if (key is not ("page" or "per_page" or "api_key"))
            {
                await HttpResults.ErrorAsync(context, StatusCodes.Status400BadRequest, $"unknown query parameter '{key}'");
                return;
            }
        }

        var (list, total) = await events.ListAsync(page, perPage, context.RequestAborted);
        var items = list.Select(e => new EventListItem(e.Id.ToString("D"), e.Name, ViewModelJson.FormatTime(e.StartAt), ViewModelJson.FormatTime(e.EndAt))).ToList();
        await HttpResults.JsonAsync(context, StatusCodes.Status200OK, new EventListBody(items, page, perPage, total), PulseJsonContext.Default.EventListBody);
    }

    internal static string? Validate(PostEventBody? body, out Guid eventId, out string eventName)
    {
        eventId = default;
        eventName = string.Empty;
        if (body?.Topic is not { } topic || body.Event is not { } name || body.Payload?.EventId is not { } payloadId)
        {
            return "topic, event and payload.event_id are required";
        }

        if (!EventTopic.TryParse(topic, out eventId))
        {
            return "topic must be event:<uuid>";
        }

        if (!Guid.TryParse(payloadId, out var other) || other != eventId)
        {
            return "payload.event_id must equal the topic's event id";
        }

        if (Notification.CheckEventName(name) is { } problem)
        {
            return problem;
        }

        eventName = name;
        return null;
    }

    // Parses the body where Kestrel holds it, with no copy. Counts as it reads, so a chunked body without
    // Content-Length meets the same limit.
    private async Task<PostEventBody?> ReadBodyAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            var buffer = result.Buffer;
            if (buffer.Length > maxBodyBytes)
            {
                // Advance before throwing: a read left pending stops Kestrel from draining the rest
                // of the body after the 413, and the client then gets a reset instead of the answer.
                reader.AdvanceTo(buffer.End);
                throw new BadHttpRequestException("body too large", StatusCodes.Status413PayloadTooLarge);
            }

            if (!result.IsCompleted)
            {
                // Nothing consumed, everything examined: the next read returns the body so far and more.
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            try
            {
                return Parse(buffer);
            }
            finally
            {
                reader.AdvanceTo(buffer.End);
            }
        }
    }

    private static PostEventBody? Parse(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        var parsed = JsonSerializer.Deserialize(ref json, PulseJsonContext.Default.PostEventBody);

        // One value only: the reader throws on anything but white space after it.
        return json.Read() ? throw new JsonException("more than one JSON value") : parsed;
    }

    private Task TooLargeAsync(HttpContext context)
    {
        // Close after the answer: the rest of the body is not worth reading, and a client that is
        // still sending gets the 413 first (Kestrel drains what it can before closing).
        context.Response.Headers.Connection = "close";
        return HttpResults.ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"body over {maxBodyBytes} bytes");
    }

    private static bool TryPositive(IQueryCollection query, string key, int fallback, int max, out int value)
    {
        value = fallback;
        if (!query.TryGetValue(key, out var text))
        {
            return true;
        }

        return text.Count == 1 && int.TryParse(text[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max;
    }
}
