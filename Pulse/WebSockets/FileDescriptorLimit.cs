using System.Runtime.InteropServices;

namespace Pulse.WebSockets;

/// <summary>
/// The process's file-descriptor budget. Each socket is one descriptor; past the soft <c>RLIMIT_NOFILE</c>
/// <c>accept</c> fails and the runtime can die ("Out of memory." at about 19,700 sockets here), so the
/// soft limit is raised to the hard one at start and new upgrades are refused before it is reached.
/// </summary>
/// <remarks>Thread safety: the counter is updated with <see cref="Interlocked"/>; the limit is read once.</remarks>
internal static partial class FileDescriptorLimit
{
    private static long _open;
    private static long _limit = -1;

    /// <summary>Connections currently inside the middleware (WebSocket or not): each holds one descriptor.</summary>
    public static long OpenConnections => Volatile.Read(ref _open);

    /// <summary>The soft limit after <see cref="Raise"/>, or <see cref="long.MaxValue"/> where it cannot be read.</summary>
    public static long Limit => Volatile.Read(ref _limit) is >= 0 and var limit ? limit : long.MaxValue;

    public static void Enter() => Interlocked.Increment(ref _open);

    public static void Exit() => Interlocked.Decrement(ref _open);

    /// <summary>Whether a new upgrade must be refused so that <paramref name="reserve"/> descriptors stay free.</summary>
    public static bool IsNearLimit(int reserve) => OpenConnections >= Limit - reserve;

    /// <summary>
    /// Raises the soft limit to the hard limit (allowed without privileges) once per process. Returns
    /// (soft, hard) after the attempt, or null on a system without <c>getrlimit</c>.
    /// </summary>
    public static (long Soft, long Hard)? Raise()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }

        int resource = OperatingSystem.IsLinux() ? 7 : 8; // RLIMIT_NOFILE: 7 on Linux, 8 on macOS/BSD
        if (GetRLimit(resource, out var limits) != 0)
        {
            return null;
        }

        if (limits.Current < limits.Maximum)
        {
            var raised = limits with { Current = limits.Maximum };
            if (SetRLimit(resource, in raised) == 0)
            {
                limits = raised;
            }
        }

        // RLIM_INFINITY is all ones; keep the arithmetic in long.
        long soft = (long)Math.Min(limits.Current, long.MaxValue);
        long hard = (long)Math.Min(limits.Maximum, long.MaxValue);
        Volatile.Write(ref _limit, soft);
        return (soft, hard);
    }

    /// <summary>struct rlimit: two rlim_t (64-bit on the 64-bit platforms Pulse ships for).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private record struct RLimit(ulong Current, ulong Maximum);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limits);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limits);
}
