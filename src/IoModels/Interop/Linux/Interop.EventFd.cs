using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>eventfd from &lt;sys/eventfd.h&gt;: a counter in the kernel that one thread can bump to wake another's wait.</summary>
    [SupportedOSPlatform("linux")]
    internal static partial class EventFd
    {
        internal const int EFD_CLOEXEC = 0x80000;

        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int Create(uint initialValue, int flags);

        /// <summary>Adds <paramref name="value"/> to the counter (glibc's eventfd_write: one 8-byte write).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd_write", SetLastError = true)]
        internal static partial int Write(int fd, ulong value);
    }
}
