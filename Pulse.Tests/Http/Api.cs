using System.Net;
using System.Net.Http.Headers;

namespace Pulse.Tests.Http;

/// <summary>Small helpers the REST API tests share: bodies, JSON checks, polling.</summary>
internal static class Api
{
    public const string JsonType = "application/json; charset=utf-8";

    public static Uri Path(string path) => new(path, UriKind.Relative);

    public static string PostBody(Guid id, string name) =>
        $$$"""{"topic":"event:{{{id}}}","event":"{{{name}}}","payload":{"event_id":"{{{id}}}"}}""";

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Asserts the status and the JSON content type (docs/design.md §6: errors included) and returns the parsed body.</summary>
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(JsonType, response.Content.Headers.ContentType?.ToString());
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>An error answer: the status, JSON, and a non-empty <c>error</c> string.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await JsonAsync(response, status);
        var error = body.GetProperty("error").GetString();
        Assert.False(string.IsNullOrEmpty(error));
        return error!;
    }

    /// <summary>GETs the event until <paramref name="done"/> holds or 5 s pass (the server computes asynchronously).</summary>
    public static async Task<(JsonElement Body, EntityTagHeaderValue? ETag)> PollEventAsync(HttpClient client, Guid id, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await client.GetAsync(Path($"/v1/events/{id}"));
            var body = await JsonAsync(response, HttpStatusCode.OK);
            if (done(body) || DateTime.UtcNow > deadline)
            {
                return (body, response.Headers.ETag);
            }

            await Task.Delay(50);
        }
    }
}
