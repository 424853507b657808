using Microsoft.Extensions.Primitives;

namespace Pulse.Http;

/// <summary><c>If-None-Match</c> evaluation (RFC 9110 §13.1.2): weak comparison, lists and <c>*</c>.</summary>
internal static class EntityTags
{
    public static bool Matches(StringValues ifNoneMatch, string etag)
    {
        foreach (var header in ifNoneMatch)
        {
            if (header is null)
            {
                continue;
            }

            foreach (var range in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var tag = range.StartsWith("W/", StringComparison.Ordinal) ? range[2..] : range;
                if (tag == "*" || tag == etag)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
