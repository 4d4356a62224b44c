using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// How many bytes a socket's send queue still holds (written by us, not yet acknowledged by the
    /// peer): SIOCOUTQ on Linux, SO_NWRITE on macOS. The idle rule watches it shrink to tell a slow
    /// reader, who is working through echoes the kernel already took, from one who stopped reading.
    /// </summary>
    internal static unsafe partial class SendQueue
    {
        /// <summary>SIOCOUTQ (the same number as TIOCOUTQ) on Linux.</summary>
        private const nuint SIOCOUTQ = 0x5411;

        /// <summary>SO_NWRITE on macOS: bytes in the send buffer not yet sent or not yet acknowledged.</summary>
        private const int SO_NWRITE = 0x1024;

        private const int SOL_SOCKET_APPLE = 0xffff;

        /// <summary>Bytes still in <paramref name="fd"/>'s send queue, or -1 where the OS cannot say (or the call failed).</summary>
        internal static int Unsent(nint fd)
        {
            int value = 0;
            if (OperatingSystem.IsLinux())
            {
                return Ioctl((int)fd, SIOCOUTQ, &value) == 0 ? value : -1;
            }

            if (OperatingSystem.IsMacOS())
            {
                uint length = sizeof(int);
                return GetSockOpt((int)fd, SOL_SOCKET_APPLE, SO_NWRITE, &value, &length) == 0 ? value : -1;
            }

            return -1;
        }

        // ioctl(2) is variadic in C; one int* after the request is passed the same way as a fixed
        // argument on Linux's x86-64 and arm64 calling conventions, which is the only place it is used.
        [SupportedOSPlatform("linux")]
        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        private static partial int Ioctl(int fd, nuint request, int* value);

        [SupportedOSPlatform("macos")]
        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        private static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);
    }
}
