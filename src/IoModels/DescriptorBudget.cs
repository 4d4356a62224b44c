namespace IoModels;

/// <summary>
/// How many connections the process can hold before it runs out of file descriptors. Engines cap
/// their connection limit to this, so a flood of clients is refused cleanly instead of driving the
/// process to EMFILE — where more than accept fails: the runtime cannot start a thread (the blocking
/// engine) and aborts with "Out of memory" when its thread pool cannot grow (the async engine),
/// both observed here under <c>prlimit --nofile=200</c>.
/// </summary>
public static class DescriptorBudget
{
    /// <summary>
    /// Descriptors kept free for everything that is not a connection: the runtime's own threads and
    /// pipes, log output, a listener per loop, the accept that is refused. 64 covers what a running
    /// server was seen to open beyond its connections, with room to spare.
    /// </summary>
    public const int DefaultReserve = 64;

    /// <summary>The soft RLIMIT_NOFILE, or null where it cannot be read (Windows has no such limit).</summary>
    public static long? SoftLimit()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return null;
        }

        if (Interop.Libc.GetRLimit(Interop.Libc.RLIMIT_NOFILE, out Interop.Libc.RLimit limit) != 0)
        {
            return null;
        }

        return limit.rlim_cur > long.MaxValue ? long.MaxValue : (long)limit.rlim_cur;
    }

    /// <summary>Descriptors open in this process now (Linux: /proc/self/fd), or null where that cannot be counted cheaply.</summary>
    public static int? OpenNow()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            // Expected only when the process is itself out of descriptors: unknown, not fatal.
            return null;
        }
    }

    /// <summary>
    /// The connections this process can still open: the soft limit, less what is open now (on Linux;
    /// elsewhere an estimate of 128 for the runtime), less <paramref name="reserve"/>. Null: no limit
    /// known, or <paramref name="reserve"/> is 0 (no cap wanted).
    /// </summary>
    public static int? ConnectionCapacity(int reserve)
    {
        if (reserve == 0)
        {
            return null;
        }

        long? limit = SoftLimit();
        if (limit is null)
        {
            return null;
        }

        long open = OpenNow() ?? 128;
        return (int)Math.Clamp(limit.Value - open - reserve, 1, int.MaxValue);
    }
}
