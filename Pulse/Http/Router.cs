namespace Pulse.Http;

/// <summary>
/// The whole route table of DESIGN §6 in one switch: a handful of fixed routes need no routing
/// framework, and a switch on path segments costs nothing per request.
/// </summary>
internal sealed class Router(EventsEndpoints events, HealthEndpoints health, DashboardEndpoints dashboard, ApiKeyAuthentication auth)
{
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await RouteAsync(context);
        }
        catch (Npgsql.NpgsqlException e) when (!context.Response.HasStarted)
        {
            // The database is down or too slow (key refresh, list, view model): a JSON 503 the
            // client can act on, not Kestrel's empty 500 (DESIGN §6: every error is JSON).
            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "database unavailable: " + e.Message.ReplaceLineEndings(" "));
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var method = context.Request.Method;
        bool get = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

        if (path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            await ApiAsync(context, path, method, get);
            return;
        }

        switch (path)
        {
            case "/healthz" when get:
                await HealthEndpoints.LiveAsync(context);
                return;
            case "/readyz" when get:
                await health.ReadyAsync(context);
                return;
            case "/metrics" when get:
                await MetricsEndpoint.WriteAsync(context);
                return;
            case WebSockets.HandshakeParser.WebSocketPath:
                // Upgrades never get here: the transport takes every request head for /socket/websocket, on any
                // request of a connection (DESIGN §7). Only a target Kestrel decodes to this path but the transport
                // does not recognize (absolute-form, percent-encoded) lands here: say what the endpoint wants, as the
                // transport's own refusal does, rather than let the dashboard answer 404.
                await HttpResults.ErrorAsync(context, StatusCodes.Status400BadRequest, "/socket/websocket takes only WebSocket upgrades: GET /socket/websocket with Upgrade: websocket");
                return;
            case "/healthz" or "/readyz" or "/metrics":
                await HttpResults.MethodNotAllowedAsync(context, "GET, HEAD");
                return;
        }

        if (!get)
        {
            await HttpResults.MethodNotAllowedAsync(context, "GET, HEAD");
            return;
        }

        await dashboard.HandleAsync(context, path);
    }

    private async Task ApiAsync(HttpContext context, string path, string method, bool get)
    {
        const string collection = "/v1/events";
        bool isCollection = path == collection || path == collection + "/";
        bool isItem = !isCollection && path.StartsWith(collection + "/", StringComparison.Ordinal) && path.IndexOf('/', collection.Length + 1) < 0;
        if (!isCollection && !isItem)
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status404NotFound, "no such route");
            return;
        }

        if (!await auth.AuthorizeAsync(context))
        {
            return;
        }

        if (isCollection && HttpMethods.IsPost(method))
        {
            await events.PostAsync(context);
        }
        else if (isCollection && get)
        {
            await events.ListAsync(context);
        }
        else if (isItem && get)
        {
            await events.GetAsync(context, path[(collection.Length + 1)..]);
        }
        else
        {
            await HttpResults.MethodNotAllowedAsync(context, isCollection ? "GET, HEAD, POST" : "GET, HEAD");
        }
    }
}
