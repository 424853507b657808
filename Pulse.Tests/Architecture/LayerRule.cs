using System.Text.RegularExpressions;

namespace Pulse.Tests.Architecture;

/// <summary>
/// The rooms of <c>Pulse/</c> and what each may name (docs/design.md, section 2): a lower layer never
/// names a higher one; where it must call upward it owns a small interface the higher one implements.
/// </summary>
internal static partial class LayerRule
{
    private static readonly string[] Leaves = ["Configuration", "Diagnostics"];

    /// <summary>Folder under <c>Pulse/</c> → the other folders its code may name; <c>null</c>: any (the wiring rooms).</summary>
    public static readonly IReadOnlyDictionary<string, string[]?> Allowed = new Dictionary<string, string[]?>(StringComparer.Ordinal)
    {
        ["Configuration"] = [],
        ["Diagnostics"] = ["Configuration"],
        ["WebSockets"] = Leaves,
        ["Storage"] = Leaves,
        ["Broadcasting"] = [.. Leaves, "Storage"],
        // Delivery: the transport below it, what to send beside it; Storage is under both.
        ["Phoenix"] = [.. Leaves, "Storage", "Broadcasting", "WebSockets"],
        ["Cluster"] = [.. Leaves, "Storage", "Broadcasting"],
        ["Http"] = [.. Leaves, "Storage", "Broadcasting", "Cluster", "Phoenix", "WebSockets"],
        ["Hosting"] = null,
        ["Cli"] = null,
        ["Demo"] = null,
    };

    /// <summary>One reference of a file to a room it may not name.</summary>
    public sealed record Violation(string File, int Line, string From, string To, string Text)
    {
        public override string ToString() => $"{File}:{Line}: {From} names {To} (a higher or a sibling layer): {Text.Trim()}";
    }

    /// <summary>
    /// The rooms named by one line of code (comments and strings already blanked) and by its crefs:
    /// <c>using Pulse.X</c>, <c>Pulse.X.</c> anywhere, and <c>X.Type</c> relative to the namespace
    /// <c>Pulse</c> (which resolves to <c>Pulse.X.Type</c> from inside any room).
    /// </summary>
    public static IEnumerable<string> NamedRooms(string code, IEnumerable<string> crefs)
    {
        if (NamespaceLine().IsMatch(code))
        {
            yield break;
        }

        foreach (Match m in Qualified().Matches(code).Concat(Relative().Matches(code)))
        {
            if (Allowed.ContainsKey(m.Groups[1].Value))
            {
                yield return m.Groups[1].Value;
            }
        }

        foreach (var cref in crefs)
        {
            var m = CrefRoom().Match(cref);
            if (m.Success && Allowed.ContainsKey(m.Groups[1].Value))
            {
                yield return m.Groups[1].Value;
            }
        }
    }

    /// <summary>Checks one C# source of room <paramref name="room"/>; <paramref name="file"/> is for the messages.</summary>
    public static IEnumerable<Violation> Check(string file, string room, string source)
    {
        if (!Allowed.TryGetValue(room, out var allowed))
        {
            yield return new Violation(file, 1, room, "?", $"folder Pulse/{room}/ is no room of the layer table (LayerRule.Allowed, docs/design.md section 2)");
            yield break;
        }

        if (allowed is null)
        {
            yield break;
        }

        var (code, crefs) = SourceTree.SplitCode(source);
        var lines = source.Split('\n');
        for (int i = 0; i < code.Length; i++)
        {
            foreach (var to in NamedRooms(code[i], crefs[i]).Distinct())
            {
                if (to != room && !allowed.Contains(to))
                {
                    yield return new Violation(file, i + 1, room, to, lines[i]);
                }
            }
        }
    }

    [GeneratedRegex(@"^\s*namespace\s")]
    private static partial Regex NamespaceLine();

    // Pulse.X, not preceded by an identifier character or a dot (Foo.Pulse.X is someone else's).
    [GeneratedRegex(@"(?<![\w.])(?:global::)?Pulse\.([A-Za-z]\w*)")]
    private static partial Regex Qualified();

    // X.Type with X a room: a name relative to the namespace Pulse.
    [GeneratedRegex(@"(?<![\w.:])([A-Z]\w*)\.(?=[A-Z])")]
    private static partial Regex Relative();

    [GeneratedRegex(@"^(?:[A-Z]:)?(?:Pulse\.)?([A-Z]\w*)\.")]
    private static partial Regex CrefRoom();
}
