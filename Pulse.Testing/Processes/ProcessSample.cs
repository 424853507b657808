using System.Diagnostics;
using System.Globalization;

namespace Pulse.Testing.Processes;

/// <summary>One reading of a process: resident memory and CPU time consumed so far.</summary>
internal readonly record struct ProcessSample(long RssBytes, TimeSpan Cpu)
{
    /// <summary>USER_HZ on Linux is 100 on every mainstream kernel build (sysconf(_SC_CLK_TCK)).</summary>
    private const double ClockTicksPerSecond = 100;

    /// <summary>Reads VmRSS from /proc/pid/status and utime+stime from /proc/pid/stat; null if the process is gone.</summary>
    public static ProcessSample? Read(int pid)
    {
        try
        {
            long rssKiB = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rssKiB = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }

            // The command name (field 2) may hold spaces; fields after the last ')' are fixed.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ", fields[0] is state (field 3), so utime (14) is fields[11], stime (15) fields[12].
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new ProcessSample(rssKiB * 1024, TimeSpan.FromSeconds(ticks / ClockTicksPerSecond));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>This process's CPU time, as the runtime counts it.</summary>
    public static TimeSpan SelfCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
