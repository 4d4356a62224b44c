using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IoModels.Tests.Interop;

/// <summary>
/// The native structs must match the C ABI byte for byte, or the kernel reads garbage: sizes and
/// field offsets for this process's platform, and the other platforms' layouts by their constants.
/// </summary>
public sealed unsafe class StructLayoutTests
{
    [Fact]
    public void Packed_epoll_event_is_12_bytes_with_data_at_offset_4()
    {
        Assert.Equal(12, Unsafe.SizeOf<IoModels.Interop.Epoll.epoll_event_packed>());
        Assert.Equal(12, Marshal.SizeOf<IoModels.Interop.Epoll.epoll_event_packed>());
        Assert.Equal(0, (int)Marshal.OffsetOf<IoModels.Interop.Epoll.epoll_event_packed>("events"));
        Assert.Equal(4, (int)Marshal.OffsetOf<IoModels.Interop.Epoll.epoll_event_packed>("data"));
    }

    [Fact]
    public void Aligned_epoll_event_is_16_bytes_with_data_at_offset_8()
    {
        Assert.Equal(16, Unsafe.SizeOf<IoModels.Interop.Epoll.epoll_event_aligned>());
        Assert.Equal(16, Marshal.SizeOf<IoModels.Interop.Epoll.epoll_event_aligned>());
        Assert.Equal(0, (int)Marshal.OffsetOf<IoModels.Interop.Epoll.epoll_event_aligned>("events"));
        Assert.Equal(8, (int)Marshal.OffsetOf<IoModels.Interop.Epoll.epoll_event_aligned>("data"));
    }

    [SkippableFact]
    public void This_process_uses_the_epoll_event_layout_of_its_architecture()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "epoll is Linux only");
        bool packed = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;
        Assert.Equal(packed, IoModels.Interop.Epoll.IsPacked);
        Assert.Equal(packed ? 12 : 16, IoModels.Interop.Epoll.EventSize);
    }

    [SkippableFact]
    public void Epoll_event_written_for_this_architecture_puts_data_where_the_kernel_reads_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "epoll is Linux only");
        byte* array = stackalloc byte[32];
        new Span<byte>(array, 32).Clear();
        IoModels.Interop.Epoll.Write(array + IoModels.Interop.Epoll.EventSize, IoModels.Interop.Epoll.EPOLLIN, 0x1122334455667788);
        Assert.Equal(IoModels.Interop.Epoll.EPOLLIN, IoModels.Interop.Epoll.EventsAt(array, 1));
        Assert.Equal(0x1122334455667788UL, IoModels.Interop.Epoll.DataAt(array, 1));
        int dataOffset = IoModels.Interop.Epoll.EventSize + (IoModels.Interop.Epoll.IsPacked ? 4 : 8);
        Assert.Equal(0x1122334455667788UL, *(ulong*)(array + dataOffset));
    }

    [Fact]
    public void Epoll_constants_match_sys_epoll_h()
    {
        Assert.Equal(0x001u, IoModels.Interop.Epoll.EPOLLIN);
        Assert.Equal(0x004u, IoModels.Interop.Epoll.EPOLLOUT);
        Assert.Equal(0x008u, IoModels.Interop.Epoll.EPOLLERR);
        Assert.Equal(0x010u, IoModels.Interop.Epoll.EPOLLHUP);
        Assert.Equal(0x2000u, IoModels.Interop.Epoll.EPOLLRDHUP);
        Assert.Equal(0x80000000u, IoModels.Interop.Epoll.EPOLLET);
        Assert.Equal((1, 2, 3), (IoModels.Interop.Epoll.EPOLL_CTL_ADD, IoModels.Interop.Epoll.EPOLL_CTL_DEL, IoModels.Interop.Epoll.EPOLL_CTL_MOD));
    }

    [Fact]
    public void MacOS_kevent_is_32_bytes_with_the_BSD_field_offsets()
    {
        Assert.Equal(32, sizeof(IoModels.Interop.Kqueue.kevent_osx));
        Assert.Equal(32, Marshal.SizeOf<IoModels.Interop.Kqueue.kevent_osx>());
        AssertKeventPrefix<IoModels.Interop.Kqueue.kevent_osx>();
    }

    [Fact]
    public void FreeBSD_kevent_is_64_bytes_the_same_prefix_then_ext()
    {
        Assert.Equal(64, sizeof(IoModels.Interop.Kqueue.kevent_freebsd));
        Assert.Equal(64, Marshal.SizeOf<IoModels.Interop.Kqueue.kevent_freebsd>());
        AssertKeventPrefix<IoModels.Interop.Kqueue.kevent_freebsd>();
        Assert.Equal(32, (int)Marshal.OffsetOf<IoModels.Interop.Kqueue.kevent_freebsd>("ext"));
    }

    [Fact]
    public void Timespec_is_16_bytes()
    {
        Assert.Equal(16, sizeof(IoModels.Interop.Kqueue.Timespec));
        Assert.Equal(8, (int)Marshal.OffsetOf<IoModels.Interop.Kqueue.Timespec>("tv_nsec"));
    }

    [SkippableFact]
    public void This_process_uses_the_kevent_size_of_its_OS()
    {
        Skip.IfNot(OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD(), "kqueue is macOS and FreeBSD only");
        Assert.Equal(OperatingSystem.IsFreeBSD() ? 64 : 32, IoModels.Interop.Kqueue.EventSize);
    }

    [Fact]
    public void Kqueue_constants_match_sys_event_h()
    {
        Assert.Equal((-1, -2), ((int)IoModels.Interop.Kqueue.EVFILT_READ, (int)IoModels.Interop.Kqueue.EVFILT_WRITE));
        Assert.Equal((0x1, 0x2, 0x20, 0x4000, 0x8000), ((int)IoModels.Interop.Kqueue.EV_ADD, (int)IoModels.Interop.Kqueue.EV_DELETE,
            (int)IoModels.Interop.Kqueue.EV_CLEAR, (int)IoModels.Interop.Kqueue.EV_ERROR, (int)IoModels.Interop.Kqueue.EV_EOF));
        Assert.Equal(0x01000000u, IoModels.Interop.Kqueue.NOTE_TRIGGER);
    }

    private static void AssertKeventPrefix<T>()
    {
        Assert.Equal(0, (int)Marshal.OffsetOf<T>("ident"));
        Assert.Equal(8, (int)Marshal.OffsetOf<T>("filter"));
        Assert.Equal(10, (int)Marshal.OffsetOf<T>("flags"));
        Assert.Equal(12, (int)Marshal.OffsetOf<T>("fflags"));
        Assert.Equal(16, (int)Marshal.OffsetOf<T>("data"));
        Assert.Equal(24, (int)Marshal.OffsetOf<T>("udata"));
    }
}
