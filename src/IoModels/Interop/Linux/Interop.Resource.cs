using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// getrlimit from &lt;sys/resource.h&gt;: the process's own limits. The resource numbers are Linux's
    /// (macOS and FreeBSD number them differently), so this file is Linux only.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static partial class Resource
    {
        /// <summary>Processes (threads count as processes) the real user may have.</summary>
        internal const int RLIMIT_NPROC = 6;

        /// <summary>One more than the highest descriptor number the process may open.</summary>
        internal const int RLIMIT_NOFILE = 7;

        /// <summary>RLIM_INFINITY: no limit (all bits set in rlim_t, an unsigned long: word-sized).</summary>
        internal static readonly nuint RLIM_INFINITY = nuint.MaxValue;

        /// <summary>struct rlimit: the soft limit the kernel enforces, and the hard ceiling it may be raised to.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct RLimit
        {
            public nuint rlim_cur;
            public nuint rlim_max;
        }

        /// <summary>The soft limit of <paramref name="resource"/>, or null when it is unlimited or cannot be read.</summary>
        internal static unsafe long? SoftLimit(int resource)
        {
            RLimit value;
            return getrlimit(resource, &value) == 0 && value.rlim_cur != RLIM_INFINITY ? (long)Math.Min((ulong)value.rlim_cur, long.MaxValue) : null;
        }

        [LibraryImport(Libraries.Libc, SetLastError = true)]
        private static unsafe partial int getrlimit(int resource, RLimit* value);
    }
}
