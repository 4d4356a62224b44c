using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// Linux epoll (sys/epoll.h): a kernel object that holds a set of descriptors and the events of
    /// interest on each, and returns only the ready ones from <c>epoll_wait</c>.
    /// </summary>
    /// <remarks>
    /// <c>struct epoll_event</c> is declared <c>__attribute__((packed))</c> on x86-64 only (12 bytes, the
    /// 64-bit <c>data</c> at offset 4); everywhere else it is naturally aligned (16 bytes, <c>data</c> at 8).
    /// Both layouts are here; <see cref="IsPacked"/> says which one this process must pass, and
    /// <see cref="EventSize"/> is the stride of an event array.
    /// Only the functions are marked Linux-only: the layouts and constants are plain data, tested everywhere.
    /// </remarks>
    internal static unsafe partial class Epoll
    {
        internal const int EPOLL_CLOEXEC = 0x80000;

        internal const int EPOLL_CTL_ADD = 1;
        internal const int EPOLL_CTL_DEL = 2;
        internal const int EPOLL_CTL_MOD = 3;

        internal const uint EPOLLIN = 0x001;
        internal const uint EPOLLOUT = 0x004;
        internal const uint EPOLLERR = 0x008;
        internal const uint EPOLLHUP = 0x010;
        internal const uint EPOLLRDHUP = 0x2000;
        internal const uint EPOLLET = 1u << 31;

        /// <summary>True where the kernel's epoll_event is packed: x86-64 (and 32-bit x86, where 12 bytes is its natural size).</summary>
        internal static readonly bool IsPacked =
            RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

        /// <summary>Bytes per <c>struct epoll_event</c> in this process.</summary>
        internal static readonly int EventSize = IsPacked ? sizeof(epoll_event_packed) : sizeof(epoll_event_aligned);

        /// <summary><c>struct epoll_event</c> on x86-64: 12 bytes, <c>data</c> at offset 4.</summary>
        [StructLayout(LayoutKind.Sequential, Pack = 1)]
        internal struct epoll_event_packed
        {
            public uint events;
            public ulong data;
        }

        /// <summary><c>struct epoll_event</c> on arm64 and every other 64-bit target: 16 bytes, <c>data</c> at offset 8.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct epoll_event_aligned
        {
            public uint events;
            public ulong data;
        }

        [SupportedOSPlatform("linux")]
        [LibraryImport(Libraries.Libc, EntryPoint = "epoll_create1", SetLastError = true)]
        internal static partial int epoll_create1(int flags);

        /// <summary><paramref name="event"/> points at one epoll_event of this process's layout (may be null for EPOLL_CTL_DEL).</summary>
        [SupportedOSPlatform("linux")]
        [LibraryImport(Libraries.Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
        internal static partial int epoll_ctl(int epfd, int op, int fd, void* @event);

        /// <summary><paramref name="events"/> points at <paramref name="maxevents"/> epoll_events of this process's layout.</summary>
        [SupportedOSPlatform("linux")]
        [LibraryImport(Libraries.Libc, EntryPoint = "epoll_wait", SetLastError = true)]
        internal static partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);

        /// <summary>Writes one event of this process's layout at <paramref name="destination"/>.</summary>
        internal static void Write(void* destination, uint events, ulong data)
        {
            if (IsPacked)
            {
                *(epoll_event_packed*)destination = new epoll_event_packed { events = events, data = data };
            }
            else
            {
                *(epoll_event_aligned*)destination = new epoll_event_aligned { events = events, data = data };
            }
        }

        /// <summary>The <c>events</c> field of element <paramref name="index"/> of an event array.</summary>
        internal static uint EventsAt(byte* array, int index) =>
            IsPacked ? ((epoll_event_packed*)array)[index].events : ((epoll_event_aligned*)array)[index].events;

        /// <summary>The <c>data</c> field of element <paramref name="index"/> of an event array.</summary>
        internal static ulong DataAt(byte* array, int index) =>
            IsPacked ? ((epoll_event_packed*)array)[index].data : ((epoll_event_aligned*)array)[index].data;

        /// <summary>epoll_ctl, throwing <see cref="PlatformException"/> on failure.</summary>
        [SupportedOSPlatform("linux")]
        internal static void Control(int epfd, int op, int fd, uint events, ulong data)
        {
            byte* buffer = stackalloc byte[16];
            Write(buffer, events, data);
            if (epoll_ctl(epfd, op, fd, buffer) != 0)
            {
                throw PlatformException.FromLastError("epoll_ctl");
            }
        }
    }
}
