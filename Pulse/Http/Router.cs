using System.Net.Sockets;
using Npgsql;
using Pulse.Broadcasting;
using Pulse.Diagnostics;

namespace Pulse.Http;

/// <summary>
/// The whole route table of docs/design.md §6 in one switch: a handful of fixed routes need no routing
/// framework, and a switch on path segments costs nothing per request.
/// </summary>
/// <remarks>
/// Failures of a handler end here: a JSON error with a fixed sentence (docs/design.md §6: no database or
/// exception text in a response; Npgsql's messages name the database host, port and user, and most
/// routes need no key), the exception in the log. The log is rate-limited per kind
/// (<see cref="LogLimiter"/>): during an outage every request fails the same way, and a client
/// retrying in a loop must not write a stack trace per request.
/// </remarks>
internal sealed class Router(EventsEndpoints events, HealthEndpoints health, DashboardEndpoints dashboard, MetricsEndpoint metrics, ApiKeyAuthentication auth, ILogger logger, TimeProvider timeProvider)
{
    /// <summary>The error of a request that needed the database while it failed.</summary>
    internal const string DatabaseUnavailable = "database unavailable, try again later";

    /// <summary>The error of a request whose handler failed otherwise.</summary>
    internal const string InternalError = "internal error";

    private readonly LogLimiter _databaseLog = new(timeProvider, LogLimiter.DefaultInterval);
    private readonly LogLimiter _handlerLog = new(timeProvider, LogLimiter.DefaultInterval);

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await RouteAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody reads an answer.
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            // Kestrel's verdict on the request body (cut short, bad chunking): the client's fault, not a failure.
            await HttpResults.ErrorAsync(context, e.StatusCode, "malformed request");
        }
        catch (Exception e) when (!context.Response.HasStarted && IsDatabase(e))
        {
            // The database is down or too slow (key refresh, list, view model): a JSON 503 the client can
            // act on, not Kestrel's empty 500.
            if (_databaseLog.ShouldLog(out long suppressed))
            {
                HttpLog.DatabaseFailed(logger, context.Request.Method, context.Request.Path.Value ?? "/", suppressed, e);
            }

            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, DatabaseUnavailable);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            // Also keeps the host's developer exception page (stack traces) out of reach in every environment.
            if (_handlerLog.ShouldLog(out long suppressed))
            {
                HttpLog.HandlerFailed(logger, context.Request.Method, context.Request.Path.Value ?? "/", suppressed, e);
            }

            await HttpResults.ErrorAsync(context, StatusCodes.Status500InternalServerError, InternalError);
        }
    }

    private static bool IsDatabase(Exception e) => e is NpgsqlException or TimeoutException or SocketException;

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
                await metrics.WriteAsync(context);
                return;
            case WebSockets.HandshakeParser.WebSocketPath:
                // Upgrades never get here: the transport takes every request head for /socket/websocket, on any
                // request of a connection (docs/design.md §7). Only a target Kestrel decodes to this path but the transport
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
