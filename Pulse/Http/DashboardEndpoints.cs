using System.Globalization;
using System.Net;
using System.Text;
using Pulse.Broadcasting;
using Pulse.Storage;

namespace Pulse.Http;

/// <summary>
/// The dashboard: <c>/</c> lists current and upcoming battles (rendered here, so no API key ever
/// reaches a browser), <c>/events/{id}</c> is the live page (its numbers come over the socket),
/// <c>/app.js</c> and <c>/app.css</c> are the bundle built from <c>web/</c> and embedded.
/// </summary>
internal sealed class DashboardEndpoints(EmbeddedAssets assets, EventStore events, ISnapshotProvider snapshots, TimeProvider timeProvider)
{
    // Decoded once: a page request only fills placeholders.
    private readonly string _eventPage = Template(assets, "event.html");
    private readonly string _indexPage = Template(assets, "index.html");

    public async Task HandleAsync(HttpContext context, string path)
    {
        if (path == "/")
        {
            await HtmlAsync(context, 200, await IndexAsync(context.RequestAborted));
            return;
        }

        // An id that names no event gets the 404 page (docs/design.md §6), not an empty live page.
        if (path.StartsWith("/events/", StringComparison.Ordinal) && Guid.TryParse(path.AsSpan(8), out var id)
            && await snapshots.GetAsync(id, context.RequestAborted) is { } snapshot)
        {
            var name = WebUtility.HtmlEncode(snapshot.Name);
            var page = _eventPage
                .Replace("{{EVENT_ID}}", id.ToString("D"), StringComparison.Ordinal)
                .Replace("{{EVENT_NAME}}", name, StringComparison.Ordinal);
            await HtmlAsync(context, 200, page);
            return;
        }

        if (path is "/app.js" or "/app.css" && assets.Get(path[1..]) is { } file)
        {
            context.Response.ContentType = EmbeddedAssets.ContentType(path);
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.ContentLength = file.Length;
            await context.Response.Body.WriteAsync(file, context.RequestAborted);
            return;
        }

        await HtmlAsync(context, 404, "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/app.css\"><title>Not found — Pulse</title><body><main><h1>Not found</h1><p><a href=\"/\">All battles</a></p></main></body></html>");
    }

    private async Task<string> IndexAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var rows = new StringBuilder();
        foreach (var e in await events.CurrentAndUpcomingAsync(now, 100, cancellationToken))
        {
            bool live = e.StartAt <= now && now < e.EndAt;
            var start = ViewModelJson.FormatTime(e.StartAt);
            rows.Append(CultureInfo.InvariantCulture, $"<li class=\"event-row\" data-status=\"{(live ? "live" : "upcoming")}\"><a href=\"/events/{e.Id:D}\"><span class=\"event-name\">{WebUtility.HtmlEncode(e.Name)}</span><span class=\"event-status\">{(live ? "Live" : "Upcoming")}</span><time class=\"event-when\" datetime=\"{start}\" data-local>{e.StartAt.ToUniversalTime():yyyy'-'MM'-'dd HH':'mm} UTC</time></a></li>");
        }

        return _indexPage.Replace("{{EVENTS}}", rows.Length == 0 ? "<li class=\"event-empty\">No current or upcoming battles.</li>" : rows.ToString(), StringComparison.Ordinal);
    }

    private static string Template(EmbeddedAssets assets, string name) => assets.GetText(name) ?? throw new InvalidOperationException($"embedded {name} missing: the dashboard was not built");

    private static Task HtmlAsync(HttpContext context, int status, string html)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(html, context.RequestAborted);
    }
}
