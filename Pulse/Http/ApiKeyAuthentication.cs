using Microsoft.Extensions.Primitives;
using Pulse.Storage;

namespace Pulse.Http;

/// <summary>
/// <c>Authorization: Bearer KEY</c>, or <c>?api_key=KEY</c> as the original clients sent it.
/// A missing or unknown key gets 401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750 §3).
/// </summary>
internal sealed class ApiKeyAuthentication(ApiKeyStore keys)
{
    /// <summary>True when the request carries a valid key; otherwise the 401 (or, database down and key unknown, the 503) has been written.</summary>
    public async ValueTask<bool> AuthorizeAsync(HttpContext context)
    {
        string? key = null;
        StringValues authorization = context.Request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = header[7..].Trim();
        }
        else if (context.Request.Query.TryGetValue("api_key", out var query) && query.Count == 1)
        {
            key = query[0];
        }

        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await HttpResults.ErrorAsync(context, StatusCodes.Status401Unauthorized, "missing API key: send Authorization: Bearer KEY");
            return false;
        }

        var check = await keys.CheckAsync(key, context.RequestAborted);
        if (check == ApiKeyCheck.Unavailable)
        {
            // A key this node does not know cannot be checked while the database is down; keys it
            // knows (all of them, when it started with the database up) still work.
            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "database unavailable: cannot check this API key now");
            return false;
        }

        if (check != ApiKeyCheck.Valid)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            await HttpResults.ErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid API key");
            return false;
        }

        return true;
    }
}
