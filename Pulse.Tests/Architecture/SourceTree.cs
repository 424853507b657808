using System.Text.RegularExpressions;

namespace Pulse.Tests.Architecture;

/// <summary>
/// The repository's files as text, for the architecture tests: found from the test assembly's folder
/// by walking up to <c>Pulse.sln</c>, build output and packages left out.
/// </summary>
internal static partial class SourceTree
{
    /// <summary>Folders that hold no source of ours: build output, packages, the published binary.</summary>
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal)
    {
        "bin", "obj", "node_modules", ".git", "dist", "TestResults", "BenchmarkDotNet.Artifacts",
    };

    public static string Root { get; } = FindRoot();

    /// <summary>Every file under <paramref name="folder"/> (relative to the root) whose name ends with one of <paramref name="endings"/>.</summary>
    public static IEnumerable<string> Files(string folder, params string[] endings)
    {
        var pending = new Stack<string>();
        pending.Push(Path.Combine(Root, folder));
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                if (!SkippedFolders.Contains(Path.GetFileName(sub)))
                {
                    pending.Push(sub);
                }
            }

            foreach (var file in Directory.EnumerateFiles(dir))
            {
                if (endings.Any(e => file.EndsWith(e, StringComparison.Ordinal)))
                {
                    yield return file;
                }
            }
        }
    }

    /// <summary>The path relative to the root with forward slashes, as a failure message names it.</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    /// <summary>
    /// The code of each line of a C# source with comments and string and character literals blanked,
    /// so a layer named in prose or in a SQL string is not a reference; and the <c>cref</c> values of
    /// its XML doc comments, which the compiler binds like code.
    /// </summary>
    public static (string[] Code, List<string>[] Crefs) SplitCode(string source)
    {
        var code = new StringBuilder(source.Length);
        var comments = new StringBuilder(source.Length);
        int i = 0;
        while (i < source.Length)
        {
            char c = source[i];
            char next = i + 1 < source.Length ? source[i + 1] : '\0';
            int end;
            if (c == '/' && next == '/')
            {
                end = source.IndexOf('\n', i);
                end = end < 0 ? source.Length : end;
                Blank(source, i, end, code, comments, keepInComments: true);
            }
            else if (c == '/' && next == '*')
            {
                end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + 2;
                Blank(source, i, end, code, comments, keepInComments: true);
            }
            else if (c == '"' || ((c == '@' || c == '$') && (next == '"' || next == '@' || next == '$')))
            {
                end = StringEnd(source, i);
                Blank(source, i, end, code, comments, keepInComments: false);
            }
            else if (c == '\'')
            {
                end = source.IndexOf('\'', i + (next == '\\' ? 3 : 2)) + 1;
                end = end <= 0 ? source.Length : end;
                Blank(source, i, end, code, comments, keepInComments: false);
            }
            else
            {
                code.Append(c);
                comments.Append(c == '\n' ? '\n' : ' ');
                end = i + 1;
            }

            i = end;
        }

        var codeLines = code.ToString().Split('\n');
        var commentLines = comments.ToString().Split('\n');
        var crefs = commentLines.Select(line => CrefPattern().Matches(line).Select(m => m.Groups[1].Value).ToList()).ToArray();
        return (codeLines, crefs);
    }

    /// <summary>The index just after the string literal that starts at <paramref name="start"/> (regular, verbatim, interpolated or raw).</summary>
    private static int StringEnd(string s, int start)
    {
        int i = start;
        bool verbatim = false;
        while (s[i] is '@' or '$')
        {
            verbatim |= s[i] == '@';
            i++;
        }

        int quotes = 0;
        while (i + quotes < s.Length && s[i + quotes] == '"')
        {
            quotes++;
        }

        if (quotes >= 3)
        {
            // Raw string literal: ends at the same run of quotes.
            int close = s.IndexOf(new string('"', quotes), i + quotes, StringComparison.Ordinal);
            return close < 0 ? s.Length : close + quotes;
        }

        if (quotes == 2 && !verbatim)
        {
            return i + 2; // ""
        }

        for (int j = i + 1; j < s.Length; j++)
        {
            if (verbatim && s[j] == '"' && j + 1 < s.Length && s[j + 1] == '"')
            {
                j++;
            }
            else if (!verbatim && s[j] == '\\')
            {
                j++;
            }
            else if (s[j] == '"' || (!verbatim && s[j] == '\n'))
            {
                return j + 1;
            }
        }

        return s.Length;
    }

    // Replaces [start, end) by spaces in the code (newlines kept, so line numbers hold), and keeps it in
    // the comment text when it is a comment.
    private static void Blank(string source, int start, int end, StringBuilder code, StringBuilder comments, bool keepInComments)
    {
        for (int i = start; i < end; i++)
        {
            char c = source[i];
            code.Append(c == '\n' ? '\n' : ' ');
            comments.Append(keepInComments || c == '\n' ? c : ' ');
        }
    }

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Pulse.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("no Pulse.sln in any folder above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("""cref="([^"]+)"\s*""")]
    private static partial Regex CrefPattern();
}
