using System.Text.RegularExpressions;

namespace Pulse.Tests.Architecture;

/// <summary>
/// The house rules that hold by reading the source tree (pure: no server, no database): layers point
/// one way (docs/design.md section 2), files stay small, and the code cites the contract that is in
/// the repository, by sections that exist.
/// </summary>
[Trait("Category", "unit")] public partial class ArchitectureTests
{
    /// <summary>Past this a type is split by concern into <c>Type.Concern.cs</c> partials (issue 11).</summary>
    private const int MaxLinesPerFile = 400;

    /// <summary>Text files that may cite the contract (code, scripts, docs, configuration).</summary>
    private static readonly string[] CitingFiles =
        [".cs", ".md", ".sh", ".js", ".mjs", ".ts", ".html", ".css", ".conf", ".json", ".yml", ".yaml", ".sql", ".service", ".props", ".csproj", "Dockerfile"];

    // Spelled in two parts so that this file is not itself a citation of the document outside the house.
    private static readonly string OldCitation = "DESIGN" + " §";

    [Fact]
    public void Layers_EveryFileUnderPulse_NamesOnlyItsOwnOrLowerLayers()
    {
        var violations = new List<LayerRule.Violation>();
        foreach (var file in SourceTree.Files("Pulse", ".cs"))
        {
            var relative = SourceTree.Relative(file);
            var parts = relative.Split('/');
            if (parts.Length < 3)
            {
                continue; // Pulse/Program.cs: the entry point, above every room.
            }

            violations.AddRange(LayerRule.Check(relative, parts[1], File.ReadAllText(file)));
        }

        Assert.True(violations.Count == 0, $"{violations.Count} references point upward:\n" + string.Join('\n', violations.OrderBy(v => v.File, StringComparer.Ordinal).ThenBy(v => v.Line)));
    }

    [Fact]
    public void LayerCheck_UpwardUsingQualifiedNameAndCref_EachReported()
    {
        const string source = """
            using Pulse.Configuration;
            using Pulse.Http;

            namespace Pulse.WebSockets;

            /// <summary>Offered by <see cref="Pulse.Broadcasting.Hub"/>, not by <see cref="Frame"/>.</summary>
            internal sealed class Slot : Pulse.Broadcasting.IFrameSink
            {
                // Phoenix.Session reads it; a comment names no layer.
                private const string Sql = "SELECT 'Cluster.Bus'";
                public void Offer() => Phoenix.PhoenixLog.Offered(Storage.Keys.Count);
            }
            """;

        var found = LayerRule.Check("Pulse/WebSockets/Slot.cs", "WebSockets", source).Select(v => (v.Line, v.To)).ToList();

        Assert.Equal(new (int, string)[] { (2, "Http"), (6, "Broadcasting"), (7, "Broadcasting"), (11, "Phoenix"), (11, "Storage") }, found);
    }

    [Fact]
    public void LayerCheck_FolderOutsideTheTable_Reported()
    {
        var found = LayerRule.Check("Pulse/Utilities/Helpers.cs", "Utilities", "namespace Pulse.Utilities;").ToList();

        Assert.Equal("?", Assert.Single(found).To);
    }

    [Fact]
    public void SourceFiles_EveryCsFileInRepository_AtMost400Lines()
    {
        var tooLong = SourceTree.Files(".", ".cs")
            .Select(file => (File: SourceTree.Relative(file), Lines: File.ReadAllLines(file).Length))
            .Where(f => f.Lines > MaxLinesPerFile)
            .OrderBy(f => f.File, StringComparer.Ordinal)
            .Select(f => $"{f.File}: {f.Lines} lines")
            .ToList();

        Assert.True(tooLong.Count == 0, $"over {MaxLinesPerFile} lines (split by concern into Type.Concern.cs partials):\n" + string.Join('\n', tooLong));
    }

    [Fact]
    public void Citations_OldDesignDocument_NoneRemain()
    {
        var found = new List<string>();
        foreach (var (file, line, text) in Lines(CitingFiles))
        {
            if (text.Contains(OldCitation, StringComparison.Ordinal))
            {
                found.Add($"{file}:{line}: {text.Trim()}");
            }
        }

        Assert.True(found.Count == 0, $"{found.Count} citations of a document outside the repository (cite docs/design.md by section instead):\n" + string.Join('\n', found));
    }

    [Fact]
    public void Citations_DocsDesign_NameSectionsThatExist()
    {
        var sections = DesignSections();
        var missing = new List<string>();
        foreach (var (file, line, text) in Lines(CitingFiles))
        {
            foreach (Match citation in Citation().Matches(text))
            {
                foreach (Capture number in citation.Groups["n"].Captures)
                {
                    if (!sections.Contains(int.Parse(number.Value, System.Globalization.CultureInfo.InvariantCulture)))
                    {
                        missing.Add($"{file}:{line}: section {number.Value} is not a heading of docs/design.md: {text.Trim()}");
                    }
                }
            }
        }

        Assert.True(missing.Count == 0, string.Join('\n', missing));
    }

    [Fact]
    public void DesignDocument_Sections_NumberedOneUpWithoutGaps()
    {
        var sections = DesignSections();

        // Code cites sections by number: sections 1-10 keep the subjects they had when the contract moved in.
        Assert.Equal(Enumerable.Range(1, sections.Count), sections);
        Assert.True(sections.Count >= 10, "docs/design.md must keep sections 1-10");
    }

    /// <summary>The numbers of docs/design.md's <c>## N. Title</c> headings, in order.</summary>
    private static List<int> DesignSections() =>
        File.ReadAllLines(Path.Combine(SourceTree.Root, "docs", "design.md"))
            .Select(line => SectionHeading().Match(line))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    private static IEnumerable<(string File, int Line, string Text)> Lines(string[] endings)
    {
        foreach (var file in SourceTree.Files(".", endings))
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                yield return (SourceTree.Relative(file), i + 1, lines[i]);
            }
        }
    }

    [GeneratedRegex(@"^## (\d+)\. ")]
    private static partial Regex SectionHeading();

    // "docs/design.md §7", "docs/design.md §7 and §9", "docs/design.md §5, §7".
    [GeneratedRegex(@"docs/design\.md §(?<n>\d+)(?:(?:, | and | or |–|-)§(?<n>\d+))*")]
    private static partial Regex Citation();
}
