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
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int EINVAL = 22;
        internal static readonly int EBUSY = 16;
        internal static readonly int ENOSYS = OperatingSystem.IsLinux() ? 38 : 78;
        internal static readonly int ETIME = OperatingSystem.IsLinux() ? 62 : 101;
        internal static readonly int ECANCELED = OperatingSystem.IsLinux() ? 125 : 89;
        internal static readonly int EALREADY = OperatingSystem.IsLinux() ? 114 : 37;
        internal static readonly int ECONNABORTED = OperatingSystem.IsLinux() ? 103 : 53;
        internal static readonly int ETIMEDOUT = OperatingSystem.IsLinux() ? 110 : 60;
        internal static readonly int ENOTCONN = OperatingSystem.IsLinux() ? 107 : 57;
        internal static readonly int ENETRESET = OperatingSystem.IsLinux() ? 102 : 52;
        internal static readonly int EHOSTUNREACH = OperatingSystem.IsLinux() ? 113 : 65;
        internal static readonly int ENETUNREACH = OperatingSystem.IsLinux() ? 101 : 51;

        [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
        internal static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(int fd, int command, int argument);

        [LibraryImport(Libraries.Libc, EntryPoint = "dup", SetLastError = true)]
        internal static partial int Dup(int fd);

        [LibraryImport(Libraries.Libc, EntryPoint = "getpid")]
        internal static partial int GetPid();


        // One more errno value, for the native event engine's error policy (the rest are above).
        internal static readonly int EPROTO = OperatingSystem.IsLinux() ? 71 : OperatingSystem.IsMacOS() ? 100 : 92;

        // shutdown(2) and setsockopt(2) values that are the same on Linux, macOS and FreeBSD.
        internal const int SHUT_WR = 1;

        /// <summary>SOL_SOCKET: 1 on Linux, 0xffff on macOS and FreeBSD.</summary>
        internal static readonly int SOL_SOCKET = OperatingSystem.IsLinux() ? 1 : 0xffff;

        /// <summary>SO_LINGER: 13 on Linux, 0x80 on macOS and FreeBSD. With l_onoff 1, l_linger 0, close(2) sends a reset.</summary>
        internal static readonly int SO_LINGER = OperatingSystem.IsLinux() ? 13 : 0x80;

        internal const int IPPROTO_TCP = 6;
        internal const int TCP_NODELAY = 1;

        // fcntl(2) commands and flags (F_GETFL, F_SETFL, O_NONBLOCK, O_ASYNC are in Interop.Fcntl.cs).
        internal const int F_SETFD = 2;
        internal const int FD_CLOEXEC = 1;

        /// <summary>F_DUPFD_CLOEXEC: 1030 on Linux, 67 on macOS, 17 on FreeBSD.</summary>
        internal static readonly int F_DUPFD_CLOEXEC = OperatingSystem.IsLinux() ? 1030 : OperatingSystem.IsMacOS() ? 67 : 17;

        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        internal static unsafe partial nint Read(int fd, void* buffer, nuint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
        internal static unsafe partial nint Write(int fd, void* buffer, nuint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
        internal static partial int Shutdown(int fd, int how);

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

        /// <summary>accept(2): where accept4 is missing (macOS), flags are set afterwards with fcntl.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "accept", SetLastError = true)]
        internal static unsafe partial int Accept(int fd, byte* address, uint* addressLength);

        /// <summary>MSG_NOSIGNAL on Linux: a send to a reset peer returns EPIPE instead of raising SIGPIPE. (macOS uses SO_NOSIGPIPE; .NET ignores SIGPIPE anyway.)</summary>
        internal static readonly int MSG_NOSIGNAL = OperatingSystem.IsLinux() ? 0x4000 : 0;
    }
}
