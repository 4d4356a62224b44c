using System.Globalization;

namespace IoModels.Tests.Reliability;

/// <summary>
/// What a process holds, read from Linux's /proc: open descriptors, threads (with their names),
/// resident memory and CPU time. The reliability tests compare these before and after a run to
/// find leaks, and read them from a child server to bound its memory and CPU.
/// </summary>
internal static class ProcessProbe
{
    /// <summary>Clock ticks per second for /proc/PID/stat times (USER_HZ): 100 on every Linux ABI .NET runs on.</summary>
    private const double ClockTicksPerSecond = 100;

    public static bool IsAvailable => OperatingSystem.IsLinux() && Directory.Exists("/proc/self/fd");

    /// <summary>Open file descriptors of <paramref name="pid"/> ("self" for this process).</summary>
    public static int OpenDescriptors(string pid = "self") => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    /// <summary>Threads of <paramref name="pid"/>, by task id, with the name the kernel knows (at most 15 characters).</summary>
    public static Dictionary<int, string> Threads(string pid = "self")
    {
        var threads = new Dictionary<int, string>();
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = File.ReadAllText(Path.Combine(task, "comm")).Trim();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Expected: the thread ended between listing the directory and reading its name.
            }
        }

        return threads;
    }

    /// <summary>A field of /proc/PID/status in bytes, e.g. VmRSS (resident now) or VmHWM (peak resident).</summary>
    public static long StatusBytes(int pid, string field)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                // "VmRSS:	  123456 kB"
                string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no {field} line");
    }

    /// <summary>
    /// The most bytes the kernel may hold for one TCP connection on this machine: the largest receive
    /// buffer autotuning may grow to (net.ipv4.tcp_rmem, third field) plus the largest send buffer
    /// (net.ipv4.tcp_wmem). A client that sends less than this proves nothing about backpressure:
    /// the kernel alone can absorb it.
    /// </summary>
    public static long KernelTcpBufferCeiling() => ThirdField("/proc/sys/net/ipv4/tcp_rmem") + ThirdField("/proc/sys/net/ipv4/tcp_wmem");

    private static long ThirdField(string path) =>
        long.Parse(File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);

    /// <summary>User plus system CPU time <paramref name="pid"/> has used so far (utime + stime of /proc/PID/stat).</summary>
    public static TimeSpan CpuTime(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture); // field 14 of the whole line
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture); // field 15
        return TimeSpan.FromSeconds((utime + stime) / ClockTicksPerSecond);
    }
}
