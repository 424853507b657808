using System.Text;
using Pulse.Diagnostics;

namespace Pulse.Http;

/// <summary><c>GET /metrics</c>: the server's instruments as Prometheus text (<see cref="PrometheusExporter"/>).</summary>
internal sealed class MetricsEndpoint(PrometheusExporter exporter)
{
    public Task WriteAsync(HttpContext context)
    {
        // About 60 series of one to three lines; 8 KiB holds them without regrowing.
        var text = new StringBuilder(8192);
        exporter.Write(text);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = PrometheusExporter.ContentType;
        return context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }
}
