using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>mmap/munmap from &lt;sys/mman.h&gt;: how the io_uring rings become memory shared with the kernel.</summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class Mman
    {
        internal const int PROT_READ = 0x1;
        internal const int PROT_WRITE = 0x2;
        internal const int MAP_SHARED = 0x01;

        /// <summary>Prefault the pages now rather than on first touch by the event loop.</summary>
        internal const int MAP_POPULATE = 0x8000;

        /// <summary>What mmap returns on failure: (void*)-1.</summary>
        internal static readonly void* MAP_FAILED = (void*)-1;

        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(void* address, nuint length);
    }
}
