using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// BSD kqueue (sys/event.h) as macOS has it: a kernel queue of filters (read, write, user, …) on
    /// identifiers, changed and waited on with the one call <c>kevent</c>.
    /// </summary>
    /// <remarks>
    /// <c>struct kevent</c> is 32 bytes on 64-bit macOS (<see cref="kevent_osx"/>). FreeBSD 12 and later
    /// append <c>uint64_t ext[4]</c>, making it 64 bytes (<see cref="kevent_freebsd"/>, in
    /// Interop/FreeBSD). The first 32 bytes are the same on both, so fields are read through
    /// <see cref="kevent_osx"/> and arrays are walked with the stride <see cref="EventSize"/>.
    /// Only the functions are marked macOS/FreeBSD-only: the layouts and constants are plain data, tested everywhere.
    /// </remarks>
    internal static unsafe partial class Kqueue
    {
        internal const short EVFILT_READ = -1;
        internal const short EVFILT_WRITE = -2;

        /// <summary>EVFILT_USER: -10 on macOS, -11 on FreeBSD.</summary>
        internal static readonly short EVFILT_USER = OperatingSystem.IsFreeBSD() ? (short)-11 : (short)-10;

        internal const ushort EV_ADD = 0x0001;
        internal const ushort EV_DELETE = 0x0002;
        internal const ushort EV_ENABLE = 0x0004;
        internal const ushort EV_DISABLE = 0x0008;
        internal const ushort EV_CLEAR = 0x0020;
        internal const ushort EV_ERROR = 0x4000;
        internal const ushort EV_EOF = 0x8000;

        /// <summary>fflags for EVFILT_USER: fire the user event.</summary>
        internal const uint NOTE_TRIGGER = 0x01000000;

        /// <summary>Bytes per <c>struct kevent</c> in this process.</summary>
        internal static readonly int EventSize = OperatingSystem.IsFreeBSD() ? sizeof(kevent_freebsd) : sizeof(kevent_osx);

        /// <summary><c>struct kevent</c> on 64-bit macOS: 32 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kevent_osx
        {
            public nuint ident;
            public short filter;
            public ushort flags;
            public uint fflags;
            public nint data;
            public nint udata;
        }

        /// <summary><c>struct timespec</c> on 64-bit Unix: 16 bytes (capitalised: C# reserves all-lowercase type names).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Timespec
        {
            public long tv_sec;
            public long tv_nsec;
        }

        [SupportedOSPlatform("macos")]
        [SupportedOSPlatform("freebsd")]
        [LibraryImport(Libraries.Libc, EntryPoint = "kqueue", SetLastError = true)]
        internal static partial int kqueue();

        /// <summary>Both lists are arrays of this process's <c>struct kevent</c>; <paramref name="timeout"/> null waits forever.</summary>
        [SupportedOSPlatform("macos")]
        [SupportedOSPlatform("freebsd")]
        [LibraryImport(Libraries.Libc, EntryPoint = "kevent", SetLastError = true)]
        internal static partial int kevent(int kq, void* changelist, int nchanges, void* eventlist, int nevents, Timespec* timeout);

        /// <summary>Element <paramref name="index"/> of an array of this process's kevents (the common 32-byte prefix).</summary>
        internal static kevent_osx* At(byte* array, int index) => (kevent_osx*)(array + ((nint)index * EventSize));

        /// <summary>Fills element <paramref name="index"/> of a change list, zeroing any FreeBSD extension words.</summary>
        internal static void Set(byte* array, int index, nuint ident, short filter, ushort flags, uint fflags = 0)
        {
            byte* slot = array + ((nint)index * EventSize);
            new Span<byte>(slot, EventSize).Clear();
            *(kevent_osx*)slot = new kevent_osx { ident = ident, filter = filter, flags = flags, fflags = fflags };
        }

        /// <summary>Applies <paramref name="count"/> changes at once, throwing <see cref="PlatformException"/> on failure.</summary>
        [SupportedOSPlatform("macos")]
        [SupportedOSPlatform("freebsd")]
        internal static void Apply(int kq, byte* changes, int count)
        {
            Timespec zero = default;
            if (kevent(kq, changes, count, null, 0, &zero) < 0)
            {
                throw PlatformException.FromLastError("kevent");
            }
        }
    }
}
