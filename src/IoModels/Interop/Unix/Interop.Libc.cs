using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// The few POSIX calls the native engines share. Each returns what C returns (-1 on failure);
    /// read errno with <see cref="Marshal.GetLastPInvokeError"/> right after, or use the wrappers.
    /// </summary>
    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    [SupportedOSPlatform("freebsd")]
    internal static partial class Libc
    {
        // errno values that mean the same on Linux, macOS and FreeBSD.
        internal const int EINTR = 4;
        internal const int EBADF = 9;

        /// <summary>EAGAIN/EWOULDBLOCK: 11 on Linux, 35 on macOS and FreeBSD.</summary>
        internal static readonly int EAGAIN = OperatingSystem.IsLinux() ? 11 : 35;

        internal static readonly int EMFILE = 24;
        internal static readonly int ENFILE = 23;
        internal static readonly int ENOBUFS = OperatingSystem.IsLinux() ? 105 : 55;
        internal static readonly int ENOMEM = 12;
        internal static readonly int ECONNRESET = OperatingSystem.IsLinux() ? 104 : 54;
        internal static readonly int EPIPE = 32;

        [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
        internal static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(int fd, int command, int argument);

        [LibraryImport(Libraries.Libc, EntryPoint = "getpid")]
        internal static partial int GetPid();

        /// <summary>RLIMIT_NOFILE: 7 on Linux, 8 on macOS and FreeBSD.</summary>
        internal static readonly int RLIMIT_NOFILE = OperatingSystem.IsLinux() ? 7 : 8;

        /// <summary>struct rlimit with 64-bit rlim_t (Linux, macOS and FreeBSD on 64-bit CPUs).</summary>
        internal struct RLimit
        {
            internal ulong rlim_cur;
            internal ulong rlim_max;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "getrlimit", SetLastError = true)]
        internal static partial int GetRLimit(int resource, out RLimit limit);

        /// <summary>MSG_NOSIGNAL on Linux: a send to a reset peer returns EPIPE instead of raising SIGPIPE. (macOS uses SO_NOSIGPIPE; .NET ignores SIGPIPE anyway.)</summary>
        internal static readonly int MSG_NOSIGNAL = OperatingSystem.IsLinux() ? 0x4000 : 0;
    }
}
