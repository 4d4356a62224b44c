using System.Globalization;
using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// Keeps file descriptors free for the runtime while accepting. .NET on Linux needs descriptors to
/// start a thread (a pipe while the thread starts, the file that names it), so a server whose accept
/// loop takes the very last descriptor cannot start a connection thread, and when the runtime itself
/// needs a thread-pool thread it fails fast ("Out of memory.") and the process dies. Every engine's
/// accept loop therefore asks <see cref="IsLow"/> before each accept (uring, whose kernel does the
/// accepting, after each and before accepting again) and, while it says so, backs off exactly as on
/// EMFILE: the waiting clients stay in the kernel's accept queue and are taken once others leave.
/// The reserve scales with the limit (<see cref="ReserveFor"/>), so even a small limit keeps one;
/// below <see cref="MinimumLimit"/> there is no room for it at all, and <c>serve</c> refuses to start.
/// </summary>
public sealed class DescriptorHeadroom
{
    /// <summary>
    /// The most descriptors left to the runtime: 64. A thread start holds about three for a moment, the
    /// thread pool may start several threads at once, and logging, timers and late assembly loads need a few.
    /// </summary>
    public const int MaxReserve = 64;

    /// <summary>
    /// The fewest: 16, room for about five thread starts at once. Fewer, and a burst of connections on a
    /// thread-per-connection or thread-pool engine (blocking, signal, async) reaches the runtime's own
    /// thread start with nothing left: it aborts with "Out of memory." (measured at limits 100 to 256).
    /// </summary>
    public const int MinReserve = 16;

    /// <summary>
    /// What the runtime and the CLI hold open while serving before any client connects: 74 to 77
    /// (measured: each loaded assembly's file is kept open, twice, plus the console, pipes, the
    /// runtime's epoll and the listener), 80 with start-up's own peak. A self-contained or trimmed
    /// build loads fewer assemblies and needs less; this is the figure for <c>dotnet iomodels.dll</c>.
    /// </summary>
    public const int RuntimeNeed = 80;

    /// <summary>
    /// The smallest descriptor limit a server can run under: what the runtime needs, the smallest
    /// reserve, and room for a few clients. Below it the runtime fails while starting (it cannot load
    /// its own assemblies or open the console), so <c>serve</c> checks first and refuses in one line.
    /// </summary>
    public const int MinimumLimit = RuntimeNeed + MinReserve + 4;

    private const int F_DUPFD = 0; // fcntl: duplicate onto the lowest free descriptor >= argument (same value on Linux, macOS, FreeBSD)

    private readonly int _listener;
    private readonly long _threshold;
    private bool _probeBeforeAccept = true; // for IsLowBeforeAccept: nothing known yet

    /// <summary>Watches the process's descriptor limit; <paramref name="listener"/> is only duplicated to probe, never changed.</summary>
    public DescriptorHeadroom(Socket listener)
        : this((int)(listener ?? throw new ArgumentNullException(nameof(listener))).SafeHandle.DangerousGetHandle())
    {
    }

    /// <summary>The same, for an engine that holds its listener as a raw descriptor (epoll, uring); -1 for a loop that does not accept.</summary>
    public DescriptorHeadroom(int listenerFd)
    {
        long limit = OpenFilesLimit();
        _threshold = limit > 0 && listenerFd >= 0 ? limit - ReserveFor(limit) : 0; // an unknown limit: no reserve, plain EMFILE handling
        _listener = _threshold > 0 ? listenerFd : -1;
    }

    /// <summary>
    /// Descriptors kept free under <paramref name="limit"/>: an eighth of it, between
    /// <see cref="MinReserve"/> and <see cref="MaxReserve"/> (16 up to a limit of 128, 32 at 256, 64
    /// from 512). An eighth keeps most of a small table for clients while still covering the runtime's
    /// thread starts; at 1,024 and above the fixed 64 is under 7% of the table.
    /// </summary>
    public static int ReserveFor(long limit) => (int)Math.Clamp(limit / 8, MinReserve, MaxReserve);

    /// <summary>
    /// True if <paramref name="descriptors"/> more (the most connections a server holds at once, plus
    /// what the kernel may hand it in one batch) could take this process into its reserve. An accept
    /// the kernel completes without asking first (io_uring's multishot accept) can only be used where
    /// this is false: a batch of completions arrives with the descriptors already taken.
    /// </summary>
    public static bool CouldReachReserve(long descriptors)
    {
        long limit = OpenFilesLimit();
        return limit > 0 && RuntimeNeed + descriptors > limit - ReserveFor(limit);
    }

    /// <summary>The soft RLIMIT_NOFILE on Linux, from /proc/self/limits; 0 if unlimited, unknown or not Linux.</summary>
    public static long OpenFilesLimit() => OperatingSystem.IsLinux() ? ReadOpenFilesLimit() : 0;

    /// <summary>
    /// True when fewer than the reserve of descriptors are free: the lowest free descriptor
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

    /// <summary>
    /// <see cref="IsLow"/> for a loop that calls accept on every sweep whether or not a client waits
    /// (nonblocking): it probes only if an accept succeeded since a probe found room. This loop's
    /// accepts are what fill the table, so without one the answer cannot have changed (the runtime's own
    /// descriptors are what the reserve is for), and an idle sweep costs no extra system calls.
    /// Call <see cref="Accepted"/> after each accepted connection.
    /// </summary>
    public bool IsLowBeforeAccept()
    {
        if (!_probeBeforeAccept)
        {
            return false;
        }

        bool low = IsLow();
        _probeBeforeAccept = low; // while low, every retry probes; once there is room, only the next accept makes it stale
        return low;
    }

    /// <summary>A connection was accepted: the next <see cref="IsLowBeforeAccept"/> probes again.</summary>
    public void Accepted() => _probeBeforeAccept = true;

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
