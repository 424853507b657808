using System.Globalization;
using System.Reflection;

namespace Pulse.LoadTests.Runner;

/// <summary>
/// Keeps the tool itself alive at the open-file limit. The runtime holds about two
/// descriptors per loaded assembly (≈75 here) plus pipes and the epoll instance, and an
/// assembly loaded lazily after sockets have taken every descriptor fails to load. So every
/// assembly is loaded up front, and a process refuses more sockets than its limit leaves room for.
/// </summary>
internal static class FileLimits
{
    /// <summary>Descriptors kept free for assemblies, pipes, HTTP and database connections, and the report files.</summary>
    public const int Reserve = 400;

    /// <summary>The soft RLIMIT_NOFILE of this process, from /proc/self/limits; null if unreadable.</summary>
    public static int? OpenFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string soft = line["Max open files".Length..].TrimStart().Split(' ')[0];
                    return soft == "unlimited" ? int.MaxValue : int.Parse(soft, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    /// <summary>An error message when <paramref name="socketsPerProcess"/> will not fit under the limit, else null.</summary>
    public static string? Check(int socketsPerProcess, int workers)
    {
        if (OpenFileLimit() is not { } limit || socketsPerProcess + Reserve <= limit)
        {
            return null;
        }

        int perProcess = Math.Max(1, limit - Reserve);
        int needed = (socketsPerProcess * workers + perProcess - 1) / perProcess;
        return FormattableString.Invariant(
            $"{socketsPerProcess} sockets in one process would pass its open-file limit ({limit}, less {Reserve} kept for the tool); use --workers {needed} or more");
    }

    /// <summary>Loads every referenced assembly now (bounded: at most 300), while descriptors are free.</summary>
    public static void PreloadAssemblies()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<Assembly>([Assembly.GetEntryAssembly()!, typeof(System.Text.Json.JsonSerializer).Assembly]);
        while (queue.Count > 0 && seen.Count < 300)
        {
            Assembly assembly = queue.Dequeue();
            foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is { } name && seen.Add(name))
                {
                    try
                    {
                        queue.Enqueue(Assembly.Load(reference));
                    }
                    catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
                    {
                        // Optional references that are not deployed are never used either.
                    }
                }
            }
        }
    }
}
