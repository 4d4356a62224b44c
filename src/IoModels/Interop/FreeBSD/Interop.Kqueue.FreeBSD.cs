using System.Runtime.InteropServices;

namespace IoModels;

internal static partial class Interop
{
    internal static unsafe partial class Kqueue
    {
        /// <summary>
        /// <c>struct kevent</c> on 64-bit FreeBSD 12 and later: 64 bytes, the macOS fields then
        /// <c>uint64_t ext[4]</c>. (FreeBSD 11's 32-byte layout lives on only as a compat symbol.)
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kevent_freebsd
        {
            public nuint ident;
            public short filter;
            public ushort flags;
            public uint fflags;
            public long data;
            public nint udata;
            public fixed ulong ext[4];
        }
    }
}
