namespace Pulse.Phoenix;

/// <summary>
/// The <c>vsn</c> query parameter (docs/design.md §7): absent → V1, as Phoenix; <c>1.0.N</c> → V1;
/// <c>2.0.N</c> → V2; anything else, the empty value included, is refused before the upgrade.
/// </summary>
/// <remarks>
/// Phoenix matches <c>vsn</c> against <c>~&gt; 1.0.0</c> and <c>~&gt; 2.0.0</c>, i.e. major.minor.patch
/// with any patch; a pre-release or build suffix is refused here. The last <c>vsn</c> wins, as in Plug.
/// </remarks>
internal static class PhoenixVsn
{
    public const string UnsupportedError = "unsupported vsn";

    // "2.0." plus a patch of at most 9 digits: longer is not a version anyone sends.
    private const int MaxLength = 13;

    public static bool TryParse(string queryString, out PhoenixVersion version)
    {
        version = PhoenixVersion.V1;
        var query = queryString.AsSpan();
        if (query.StartsWith('?'))
        {
            query = query[1..];
        }

        bool found = false;
        ReadOnlySpan<char> value = default;
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            int equals = pair.IndexOf('=');
            var key = equals < 0 ? pair : pair[..equals];
            if (key.SequenceEqual("vsn"))
            {
                found = true;
                value = equals < 0 ? default : pair[(equals + 1)..];
            }
        }

        return !found || TryParseValue(value, out version);
    }

    public static bool TryParseValue(ReadOnlySpan<char> value, out PhoenixVersion version)
    {
        version = PhoenixVersion.V1;
        if (value.Length > MaxLength || value.Length < "1.0.0".Length)
        {
            return false;
        }

        if (value.StartsWith("1.0."))
        {
            version = PhoenixVersion.V1;
        }
        else if (value.StartsWith("2.0."))
        {
            version = PhoenixVersion.V2;
        }
        else
        {
            return false;
        }

        return !value[4..].ContainsAnyExceptInRange('0', '9');
    }
}
