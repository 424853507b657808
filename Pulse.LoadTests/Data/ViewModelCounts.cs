using System.Globalization;
using System.Text.Json;

namespace Pulse.LoadTests.Data;

/// <summary>The per-query counts of a view model (docs/design.md §5), as the scenarios compare them with SQL.</summary>
internal static class ViewModelCounts
{
    /// <summary>Query → count of a view model's JSON; empty before any broadcast (null).</summary>
    public static SortedDictionary<string, long> Of(string? payload)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (payload is null)
        {
            return counts;
        }

        using var document = JsonDocument.Parse(payload);
        foreach (JsonElement query in document.RootElement.GetProperty("queries").EnumerateArray())
        {
            counts[query.GetProperty("query").GetString()!] = query.GetProperty("count").GetInt64();
        }

        return counts;
    }

    public static bool Same(SortedDictionary<string, long> broadcast, SortedDictionary<string, long> expected) =>
        broadcast.Count == expected.Count && broadcast.All(p => expected.GetValueOrDefault(p.Key, -1) == p.Value);

    public static string Show(SortedDictionary<string, long> counts) =>
        counts.Count == 0 ? "(none)" : string.Join(", ", counts.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}")));
}
