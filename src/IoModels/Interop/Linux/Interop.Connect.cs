using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// Opening client connections without the runtime: socket(2) non-blocking from the start, a
    /// non-blocking connect(2) that answers EINPROGRESS, and SO_ERROR to learn how it ended. The load
    /// generator uses these so that 10,000 connects cost 10,000 system calls, not 10,000 exceptions
    /// or runtime registrations. Linux values (this generator runs on epoll, so on Linux only).
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class Connect
    {
        internal const int SOCK_STREAM = 1; // SOCK_NONBLOCK and SOCK_CLOEXEC: see Accept4
        internal const int SOL_SOCKET = 1;
        internal const int SO_ERROR = 4;
        internal const int EINPROGRESS = 115;

        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
        internal static partial int ConnectTo(int fd, byte* address, uint length);

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        internal static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

        /// <summary>The error a non-blocking connect ended with (0: connected), read once it is writable.</summary>
        internal static int PendingError(int fd)
        {
            int error = 0;
            uint length = sizeof(int);
            return GetSockOpt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 ? error : Marshal.GetLastPInvokeError();
        }
    }
}
