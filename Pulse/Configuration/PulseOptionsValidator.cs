namespace Pulse.Configuration;

/// <summary>Checks every bound value; the first problem stops start-up with one line naming its key.</summary>
internal static class PulseOptionsValidator
{
    public static void Validate(PulseOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Urls))
        {
            throw new ConfigurationException("Urls", "must not be empty");
        }

        try
        {
            _ = ListenUrls.Parse(o.Urls).ToList();
        }
        catch (FormatException e)
        {
            throw new ConfigurationException("Urls", e.Message);
        }

        Range("Database:PoolSize", o.Database.PoolSize, 1, 1000);
        Range("Database:CommandTimeoutSeconds", o.Database.CommandTimeoutSeconds, 1, 3600);
        if (o.Database.Url is not null)
        {
            // Parsing throws a ConfigurationException naming Database:Url.
            _ = DatabaseUrl.ToConnectionString(o.Database.Url, o.Database.PoolSize, o.Database.CommandTimeoutSeconds);
        }

        Range("Http:MaxBodyBytes", o.Http.MaxBodyBytes, 1024, 1L << 30);
        Range("WebSocket:HeartbeatTimeoutSeconds", o.WebSocket.HeartbeatTimeoutSeconds, 1, 86_400);
        Range("WebSocket:MaxMessageBytes", o.WebSocket.MaxMessageBytes, 125, 16 << 20);
        Range("WebSocket:MaxTopicsPerSocket", o.WebSocket.MaxTopicsPerSocket, 1, 10_000);
        Range("WebSocket:WriteTimeoutSeconds", o.WebSocket.WriteTimeoutSeconds, 1, 3600);
        Range("WebSocket:FileDescriptorReserve", o.WebSocket.FileDescriptorReserve, 16, 100_000);
        Range("WebSocket:MaxQueuedReplyBytes", o.WebSocket.MaxQueuedReplyBytes, 1024, 1L << 30);
        Range("WebSocket:MaxRequestHeadBytes", o.WebSocket.MaxRequestHeadBytes, 1024, 1 << 20);
        Range("WebSocket:HandshakeTimeoutSeconds", o.WebSocket.HandshakeTimeoutSeconds, 1, 3600);
        Range("WebSocket:CloseTimeoutSeconds", o.WebSocket.CloseTimeoutSeconds, 1, 3600);
        foreach (var origin in o.WebSocket.AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                throw new ConfigurationException("WebSocket:AllowedOrigins", $"'{origin}' is not an origin like https://example.com");
            }
        }

        Range("Broadcast:TickMilliseconds", o.Broadcast.TickMilliseconds, 10, 60_000);
        Range("Broadcast:MaxConcurrentComputations", o.Broadcast.MaxConcurrentComputations, 1, 256);
        Range("Broadcast:VerifySeconds", o.Broadcast.VerifySeconds, 0, 86_400);
        Range("Notifications:BatchMilliseconds", o.Notifications.BatchMilliseconds, 1, 1000);
        Range("Shutdown:DrainSeconds", o.Shutdown.DrainSeconds, 0, 3600);
    }

    private static void Range(string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            throw new ConfigurationException(key, $"must be between {min} and {max} (got {value})");
        }
    }
}
