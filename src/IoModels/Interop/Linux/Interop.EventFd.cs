using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// Linux eventfd (&lt;sys/eventfd.h&gt;): a descriptor holding a 64-bit counter. Writing makes it
    /// readable, so another thread can wake a loop blocked in epoll_wait or io_uring_enter.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static partial class EventFd
    {
        internal const int EFD_CLOEXEC = 0x80000;
        internal const int EFD_NONBLOCK = 0x800;

        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int Create(uint initialValue, int flags);

        /// <summary>Adds <paramref name="value"/> to the counter (glibc's eventfd_write: one 8-byte write).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd_write", SetLastError = true)]
        internal static partial int Write(int fd, ulong value);
    }
}
