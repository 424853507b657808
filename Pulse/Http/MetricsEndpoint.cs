using System.Globalization;
using System.Text;

namespace Pulse.Http;

/// <summary><c>GET /metrics</c>: Prometheus text exposition format 0.0.4.</summary>
internal static class MetricsEndpoint
{
    public static Task WriteAsync(HttpContext context)
    {
        var text = new StringBuilder(2048);
        Counter(text, "pulse_connections", "gauge", "Open WebSocket connections.", Volatile.Read(ref PulseMetrics.Connections));
        Counter(text, "pulse_channel_joins_total", "counter", "Channel joins answered ok.", Volatile.Read(ref PulseMetrics.ChannelJoinsTotal));
        Counter(text, "pulse_notifications_total", "counter", "Notifications taken (POST and LISTEN).", Volatile.Read(ref PulseMetrics.NotificationsTotal));
        Counter(text, "pulse_computations_total", "counter", "View-model computations run.", Volatile.Read(ref PulseMetrics.ComputationsTotal));
        Counter(text, "pulse_broadcast_frames_total", "counter", "Broadcast frames offered to subscribers.", Volatile.Read(ref PulseMetrics.BroadcastFramesTotal));
        Counter(text, "pulse_frames_skipped_total", "counter", "Frames replaced by a newer one before a slow socket took them.", Volatile.Read(ref PulseMetrics.FramesSkippedTotal));
        Counter(text, "pulse_database_errors_total", "counter", "Failed database calls.", Volatile.Read(ref PulseMetrics.DatabaseErrorsTotal));
        Histogram(text, "pulse_computation_seconds", "Time to compute one view model.", PulseMetrics.ComputationSeconds);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }

    private static void Counter(StringBuilder text, string name, string type, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n{name} {value}\n");

    private static void Histogram(StringBuilder text, string name, string help, Histogram histogram)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} histogram\n");
        long cumulative = 0;
        for (int i = 0; i < histogram.Bounds.Count; i++)
        {
            cumulative += histogram.BucketCount(i);
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"{histogram.Bounds[i]}\"}} {cumulative}\n");
        }

        cumulative += histogram.BucketCount(histogram.Bounds.Count);
        text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"+Inf\"}} {cumulative}\n{name}_sum {histogram.Sum}\n{name}_count {cumulative}\n");
    }
}
