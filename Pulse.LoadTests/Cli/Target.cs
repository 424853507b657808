using System.Net;

namespace Pulse.LoadTests.Cli;

/// <summary>The server under test: base URI, TCP endpoint and Host header.</summary>
internal sealed record Target(Uri BaseUri, IPEndPoint Endpoint, string HostHeader)
{
    /// <summary>Parses <paramref name="url"/>; refuses a non-loopback host unless <paramref name="allowRemote"/>.</summary>
    public static Target Parse(string url, bool allowRemote)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException("--target must be an http:// URL, got '" + url + "'");
        }

        IPAddress address = uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _)
            ? IPAddress.Loopback
            : IPAddress.TryParse(uri.Host, out IPAddress? parsed) ? parsed
            : Dns.GetHostAddresses(uri.Host).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        if (!IPAddress.IsLoopback(address) && !allowRemote)
        {
            throw new ArgumentException("--target " + url + " is not a loopback address; pass --allow-remote to load a remote server");
        }

        return new Target(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), new IPEndPoint(address, uri.Port), uri.Authority);
    }
}
