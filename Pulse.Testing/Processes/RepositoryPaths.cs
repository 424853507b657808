namespace Pulse.Testing.Processes;

/// <summary>Where the repository is, found from the running assembly (tests and tools run from <c>bin/</c> below it).</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder that holds <c>Pulse.sln</c>.</summary>
    public static string Root => LazyRoot.Value;

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Pulse.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Pulse.sln not found above " + AppContext.BaseDirectory);
    }
}
