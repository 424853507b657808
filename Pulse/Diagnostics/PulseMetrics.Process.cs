using System.Diagnostics.Metrics;
using System.Globalization;

namespace Pulse.Diagnostics;

/// <summary>
/// The process and runtime figures an operator of 19,000 sockets looks at first, as observable instruments:
/// read only when a listener collects (a scrape of <c>/metrics</c>, a dotnet-counters interval), never on a hot path.
/// </summary>
/// <remarks>
/// Names follow the Prometheus client libraries' process collector (<c>process_*</c>), so existing dashboards
/// and alerts apply. They are the process's, not this server's: two servers in one process report the same.
/// Memory and descriptors come from <c>/proc/self</c> (Linux): <c>Environment.WorkingSet</c> reaches
/// System.Diagnostics.Process by reflection on Unix, which the trimmer may remove, and reads the same file.
/// </remarks>
internal sealed partial class PulseMetrics
{
    private void CreateProcessInstruments()
    {
        Meter.CreateObservableGauge("process_resident_memory_bytes", ResidentBytes, "By", "Resident memory (RSS) of the process.");
        Meter.CreateObservableCounter("process_cpu_seconds_total", () => Environment.CpuUsage.TotalTime.TotalSeconds, "s", "User and system CPU time of the process.");
        Meter.CreateObservableGauge("process_open_fds", OpenFileDescriptors, "{descriptor}", "Open file descriptors (each socket is one).");
        Meter.CreateObservableGauge("process_max_fds", MaxFileDescriptors, "{descriptor}", "Soft limit of open file descriptors (RLIMIT_NOFILE).");
        Meter.CreateObservableGauge("dotnet_gc_heap_size_bytes", () => GC.GetTotalMemory(forceFullCollection: false), "By", "Bytes on the GC heap, garbage not yet collected included.");
        Meter.CreateObservableCounter("dotnet_gc_allocated_bytes_total", () => GC.GetTotalAllocatedBytes(), "By", "Bytes allocated on the GC heap since the process started.");
        Meter.CreateObservableCounter("dotnet_gc_collections_total", () => (long)GC.CollectionCount(0), "{collection}", "Garbage collections (every collection includes generation 0).");
        Meter.CreateObservableCounter("dotnet_gc_pause_seconds_total", () => GC.GetTotalPauseDuration().TotalSeconds, "s", "Time the GC paused the process.");
        Meter.CreateObservableGauge("dotnet_thread_pool_queue_length", () => ThreadPool.PendingWorkItemCount, "{work_item}", "Work items queued for the thread pool, not yet started.");
        Meter.CreateObservableGauge("dotnet_thread_pool_threads", () => (long)ThreadPool.ThreadCount, "{thread}", "Thread-pool threads.");
    }

    // /proc/self/statm: "size resident shared text lib data dt", in pages (proc(5)).
    private static IEnumerable<Measurement<long>> ResidentBytes()
    {
        if (TryReadProc("/proc/self/statm") is not { } statm)
        {
            return [];
        }

        var fields = statm.Split(' ');
        return fields.Length > 1 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages)
            ? [new Measurement<long>(pages * Environment.SystemPageSize)]
            : [];
    }

    // One entry per descriptor in /proc/self/fd; the enumeration's own descriptor is counted too, as the
    // Prometheus clients count it.
    private static IEnumerable<Measurement<long>> OpenFileDescriptors()
    {
        try
        {
            return [new Measurement<long>(Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount())];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    // /proc/self/limits: "Max open files   <soft>   <hard>   files" (the soft limit after Pulse raised it at start).
    private static IEnumerable<Measurement<long>> MaxFileDescriptors()
    {
        foreach (var line in (TryReadProc("/proc/self/limits") ?? "").Split('\n'))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 3 && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out long soft))
                {
                    return [new Measurement<long>(soft)];
                }
            }
        }

        return [];
    }

    private static string? TryReadProc(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
