using System.Collections.Frozen;

namespace Pulse.Http;

/// <summary>The dashboard's files, embedded in the binary as <c>Pulse.wwwroot.&lt;name&gt;</c>, read once at start.</summary>
internal sealed class EmbeddedAssets
{
    private const string Prefix = "Pulse.wwwroot.";
    private readonly FrozenDictionary<string, byte[]> _files;

    public EmbeddedAssets()
    {
        var assembly = typeof(EmbeddedAssets).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..]] = copy.ToArray();
        }

        _files = files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public byte[]? Get(string name) => _files.GetValueOrDefault(name);

    public string? GetText(string name) => _files.TryGetValue(name, out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    public static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".html" => "text/html; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        _ => "application/octet-stream",
    };
}
