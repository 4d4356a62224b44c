using System.Globalization;
using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// Keeps file descriptors free for the runtime while accepting. .NET on Linux needs descriptors to
/// start a thread (a pipe while the thread starts, the file that names it), so a server whose accept
/// loop takes the very last descriptor cannot start a connection thread, and when the runtime itself
/// needs a thread-pool thread it fails fast ("Out of memory.") and the process dies. Accept loops
/// therefore ask <see cref="IsLow"/> before each accept and, while it says so, back off exactly as on
/// EMFILE: the waiting clients stay in the kernel's accept queue and are taken once others leave.
/// </summary>
public sealed class DescriptorHeadroom
{
    /// <summary>
    /// Descriptors left to the runtime. 64: a thread start holds about three for a moment, the thread
    /// pool may start several threads at once, and logging, timers and late assembly loads need a few.
    /// </summary>
    public const int Reserve = 64;

    private const int F_DUPFD = 0; // fcntl: duplicate onto the lowest free descriptor >= argument (same value on Linux, macOS, FreeBSD)

    private readonly int _listener;
    private readonly long _threshold;

    /// <summary>Watches the process's descriptor limit; <paramref name="listener"/> is only duplicated to probe, never changed.</summary>
    public DescriptorHeadroom(Socket listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        long limit = OperatingSystem.IsLinux() ? ReadOpenFilesLimit() : 0;
        _threshold = limit > 4 * Reserve ? limit - Reserve : 0; // a tiny or unknown limit: no reserve, plain EMFILE handling
        _listener = _threshold > 0 ? (int)listener.SafeHandle.DangerousGetHandle() : -1;
    }

    /// <summary>
    /// True when fewer than <see cref="Reserve"/> descriptors are free: the lowest free descriptor
    /// number (descriptors are handed out lowest first) is within the reserve of the limit.
    /// </summary>
    public bool IsLow()
    {
        if (_threshold == 0 || !OperatingSystem.IsLinux())
        {
            return false;
        }

        int probe = Interop.Libc.Fcntl(_listener, F_DUPFD, 0);
        if (probe < 0)
        {
            // EMFILE itself: no descriptor free at all. Anything else (EBADF once stop has closed the
            // listener) is not a shortage: the accept that follows reports what is really wrong.
            return System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Interop.Libc.EMFILE;
        }

        Interop.Libc.Close(probe);
        return probe >= _threshold;
    }

    /// <summary>The soft RLIMIT_NOFILE, from /proc/self/limits ("Max open files  1024  4096  files"); 0 if unlimited or unknown.</summary>
    private static long ReadOpenFilesLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;
                }
            }
        }
        catch (IOException)
        {
            // Expected without procfs (a container without /proc): no reserve, EMFILE handling still applies.
        }

        return 0;
    }
}
