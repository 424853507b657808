using System.Net;

namespace Pulse.Configuration;

/// <summary>
/// <c>Urls</c> → endpoints. Only <c>http://</c> with an IP address, <c>localhost</c>, <c>*</c> or <c>+</c>
/// (TLS belongs to the proxy in front); port 0 picks a free port (tests).
/// </summary>
internal static class ListenUrls
{
    public static IEnumerable<IPEndPoint> Parse(string urls)
    {
        var result = new List<IPEndPoint>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var normalized = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            {
                throw new FormatException($"'{url}' is not an http://HOST:PORT URL (TLS belongs to the proxy in front)");
            }

            IPAddress address;
            if (uri.Host == "localhost")
            {
                address = IPAddress.Loopback;
            }
            else if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out address!))
            {
                throw new FormatException($"'{url}': the host must be an IP address, localhost, * or +");
            }

            result.Add(new IPEndPoint(address, uri.Port));
        }

        return result.Count > 0 ? result : throw new FormatException("no URL given");
    }
}
