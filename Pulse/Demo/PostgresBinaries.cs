namespace Pulse.Demo;

/// <summary>
/// Where the PostgreSQL server programs (<c>initdb</c>, <c>pg_ctl</c>) are: <c>PG_BIN</c> when set,
/// else the newest <c>/usr/lib/postgresql/*/bin</c> (Debian and Ubuntu put them there, off the
/// PATH), else the folder of <c>pg_ctl</c> on the PATH (Homebrew, Fedora, most others).
/// </summary>
internal static class PostgresBinaries
{
    /// <summary>What to print when none are found; exact commands, not a link.</summary>
    public const string InstallHint =
        """
        pulse demo needs the PostgreSQL server programs (initdb, pg_ctl) and found none.
        Install them, then run the demo again:
          Debian/Ubuntu:  sudo apt-get install postgresql
          macOS:          brew install postgresql
        Or point PG_BIN at the folder that holds initdb and pg_ctl.
        """;

    /// <summary>The folder holding <c>initdb</c> and <c>pg_ctl</c>, or null.</summary>
    public static string? Find(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue("PG_BIN", out var pgBin) && !string.IsNullOrEmpty(pgBin))
        {
            // An explicit choice is honoured or refused, never silently replaced by another version.
            return HasServer(pgBin) ? pgBin : null;
        }

        var debian = NewestDebianBin("/usr/lib/postgresql");
        if (debian is not null)
        {
            return debian;
        }

        if (environment.TryGetValue("PATH", out var path) && path is not null)
        {
            foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                if (HasServer(dir))
                {
                    return dir;
                }
            }
        }

        return null;
    }

    /// <summary>The <c>bin</c> of the highest major version under <paramref name="root"/> (<c>17</c> beats <c>9.6</c>).</summary>
    internal static string? NewestDebianBin(string root)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.EnumerateDirectories(root)
            .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: Version.TryParse(WithMinor(Path.GetFileName(dir)), out var v) ? v : null))
            .Where(x => x.Version is not null && HasServer(x.Dir))
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    private static string WithMinor(string name) => name.Contains('.', StringComparison.Ordinal) ? name : name + ".0";

    private static bool HasServer(string dir) => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));
}
