using System.Text.Json.Serialization.Metadata;

namespace Pulse.Http;

/// <summary>Writes JSON responses; every one carries <c>application/json; charset=utf-8</c> (docs/design.md §6).</summary>
internal static class HttpResults
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public static Task JsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        return System.Text.Json.JsonSerializer.SerializeAsync(context.Response.Body, value, typeInfo, context.RequestAborted);
    }

    public static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, new ErrorBody(message), PulseJsonContext.Default.ErrorBody);

    public static Task MethodNotAllowedAsync(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, $"method {context.Request.Method} not allowed; allowed: {allow}");
    }
}
