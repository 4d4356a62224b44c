using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// Linux accept4: accept and set the new descriptor's flags in the same call, so an accepted
    /// socket is non-blocking (and close-on-exec) from its first instant, with no fcntl round trip.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class Accept4
    {
        /// <summary>O_NONBLOCK on Linux x86-64 and arm64.</summary>
        internal const int SOCK_NONBLOCK = 0x800;

        /// <summary>O_CLOEXEC on Linux.</summary>
        internal const int SOCK_CLOEXEC = 0x80000;

        /// <summary>Returns the new descriptor, or -1 with errno set. <paramref name="addrlen"/> is in/out.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
        internal static partial int accept4(int sockfd, byte* addr, uint* addrlen, int flags);
    }
}
