using System.Net;
using System.Text;
using Pulse.Storage;

namespace Pulse.Http;

/// <summary>
/// The dashboard: <c>/</c> lists current and upcoming battles (rendered here, so no API key ever
/// reaches a browser), <c>/events/{id}</c> is the live page, <c>/assets/*</c> its scripts and styles.
/// </summary>
internal sealed class DashboardEndpoints(EmbeddedAssets assets, EventStore events, TimeProvider timeProvider)
{
    public async Task HandleAsync(HttpContext context, string path)
    {
        if (path == "/")
        {
            var list = await events.CurrentAndUpcomingAsync(timeProvider.GetUtcNow().UtcDateTime, 100, context.RequestAborted);
            var rows = new StringBuilder();
            foreach (var e in list)
            {
                rows.Append("<li><a href=\"/events/").Append(e.Id.ToString("D")).Append("\">")
                    .Append(WebUtility.HtmlEncode(e.Name)).Append("</a> <time datetime=\"")
                    .Append(ViewModelJson.FormatTime(e.StartAt)).Append("\">").Append(ViewModelJson.FormatTime(e.StartAt))
                    .Append("</time> – <time datetime=\"").Append(ViewModelJson.FormatTime(e.EndAt)).Append("\">")
                    .Append(ViewModelJson.FormatTime(e.EndAt)).Append("</time></li>");
            }

            await HtmlAsync(context, 200, Template("index.html").Replace("{{EVENTS}}", rows.Length == 0 ? "<li>No battle right now.</li>" : rows.ToString(), StringComparison.Ordinal));
            return;
        }

        // An id that names no event gets the 404 page (DESIGN §6), not an empty live page.
        if (path.StartsWith("/events/", StringComparison.Ordinal) && Guid.TryParse(path.AsSpan(8), out var id)
            && await events.ExistsAsync(id, context.RequestAborted))
        {
            var page = Template("event.html")
                .Replace("{{EVENT_ID}}", id.ToString("D"), StringComparison.Ordinal)
                .Replace("{{EVENT_NAME}}", "Battle", StringComparison.Ordinal);
            await HtmlAsync(context, 200, page);
            return;
        }

        if (path.StartsWith("/assets/", StringComparison.Ordinal) && assets.Get(path[8..]) is { } file)
        {
            context.Response.ContentType = EmbeddedAssets.ContentType(path);
            context.Response.Headers.CacheControl = "public, max-age=300";
            context.Response.ContentLength = file.Length;
            await context.Response.Body.WriteAsync(file, context.RequestAborted);
            return;
        }

        await HtmlAsync(context, 404, "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not found · Pulse</title><body><main><h1>Not found</h1><p><a href=\"/\">All battles</a></p></main></body></html>");
    }

    private string Template(string name) =>
        assets.GetText(name) ?? "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Pulse</title><body><main><h1>Pulse</h1><ul>{{EVENTS}}</ul><p data-event=\"{{EVENT_ID}}\">{{EVENT_NAME}}</p></main></body></html>";

    private static Task HtmlAsync(HttpContext context, int status, string html)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(html, context.RequestAborted);
    }
}
