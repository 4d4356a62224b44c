using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// Linux eventfd: a descriptor holding a 64-bit counter. Writing makes it readable, so another
    /// thread can wake a loop blocked in epoll_wait by writing to an eventfd in its interest set.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static partial class EventFd
    {
        internal const int EFD_CLOEXEC = 0x80000;
        internal const int EFD_NONBLOCK = 0x800;

        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int eventfd(uint initval, int flags);
    }
}
