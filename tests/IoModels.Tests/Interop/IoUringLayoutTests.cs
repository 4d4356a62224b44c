using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static IoModels.Interop.IoUring;

namespace IoModels.Tests.Interop;

/// <summary>
/// The io_uring structs must match &lt;linux/io_uring.h&gt; byte for byte: the kernel reads SQEs and
/// writes CQEs and params at fixed offsets, and a wrong one corrupts requests silently.
/// The ABI is the same on every 64-bit Linux architecture.
/// </summary>
// The types under test are Linux interop; on other systems the ring tests skip with the registry's reason.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class IoUringLayoutTests
{
    [Fact]
    public void Sqe_is_64_bytes_with_the_kernel_offsets()
    {
        Assert.Equal(64, Unsafe.SizeOf<io_uring_sqe>());
        Assert.Equal(0, Offset<io_uring_sqe>(nameof(io_uring_sqe.opcode)));
        Assert.Equal(1, Offset<io_uring_sqe>(nameof(io_uring_sqe.flags)));
        Assert.Equal(2, Offset<io_uring_sqe>(nameof(io_uring_sqe.ioprio)));
        Assert.Equal(4, Offset<io_uring_sqe>(nameof(io_uring_sqe.fd)));
        Assert.Equal(8, Offset<io_uring_sqe>(nameof(io_uring_sqe.off)));
        Assert.Equal(16, Offset<io_uring_sqe>(nameof(io_uring_sqe.addr)));
        Assert.Equal(24, Offset<io_uring_sqe>(nameof(io_uring_sqe.len)));
        Assert.Equal(28, Offset<io_uring_sqe>(nameof(io_uring_sqe.op_flags)));
        Assert.Equal(32, Offset<io_uring_sqe>(nameof(io_uring_sqe.user_data)));
        Assert.Equal(40, Offset<io_uring_sqe>(nameof(io_uring_sqe.buf_index)));
        Assert.Equal(42, Offset<io_uring_sqe>(nameof(io_uring_sqe.personality)));
        Assert.Equal(44, Offset<io_uring_sqe>(nameof(io_uring_sqe.splice_fd_in)));
        Assert.Equal(48, Offset<io_uring_sqe>(nameof(io_uring_sqe.addr3)));
    }

    [Fact]
    public void Cqe_is_16_bytes_user_data_res_flags()
    {
        Assert.Equal(16, Unsafe.SizeOf<io_uring_cqe>());
        Assert.Equal(0, Offset<io_uring_cqe>(nameof(io_uring_cqe.user_data)));
        Assert.Equal(8, Offset<io_uring_cqe>(nameof(io_uring_cqe.res)));
        Assert.Equal(12, Offset<io_uring_cqe>(nameof(io_uring_cqe.flags)));
    }

    [Fact]
    public void Params_is_120_bytes_with_both_ring_offset_blocks()
    {
        Assert.Equal(120, Unsafe.SizeOf<io_uring_params>());
        Assert.Equal(40, Unsafe.SizeOf<io_sqring_offsets>());
        Assert.Equal(40, Unsafe.SizeOf<io_cqring_offsets>());
        Assert.Equal(20, Offset<io_uring_params>(nameof(io_uring_params.features)));
        Assert.Equal(24, Offset<io_uring_params>(nameof(io_uring_params.wq_fd)));
        Assert.Equal(40, Offset<io_uring_params>(nameof(io_uring_params.sq_off)));
        Assert.Equal(80, Offset<io_uring_params>(nameof(io_uring_params.cq_off)));
        Assert.Equal(24, Offset<io_sqring_offsets>(nameof(io_sqring_offsets.array)));
        Assert.Equal(32, Offset<io_sqring_offsets>(nameof(io_sqring_offsets.user_addr)));
        Assert.Equal(20, Offset<io_cqring_offsets>(nameof(io_cqring_offsets.cqes)));
    }

    [Fact]
    public void Enter_argument_probe_and_timespec_match_the_kernel()
    {
        Assert.Equal(24, Unsafe.SizeOf<io_uring_getevents_arg>());
        Assert.Equal(16, Offset<io_uring_getevents_arg>(nameof(io_uring_getevents_arg.ts)));
        Assert.Equal(16, Unsafe.SizeOf<__kernel_timespec>());
        Assert.Equal(16, Unsafe.SizeOf<io_uring_probe>());
        Assert.Equal(8, Unsafe.SizeOf<io_uring_probe_op>());
        Assert.Equal(2, Offset<io_uring_probe_op>(nameof(io_uring_probe_op.flags)));
    }

    [Fact]
    public void Provided_buffer_ring_entries_are_16_bytes_with_the_tail_over_the_first_entrys_resv()
    {
        Assert.Equal(16, Unsafe.SizeOf<io_uring_buf>());
        Assert.Equal(8, Offset<io_uring_buf>(nameof(io_uring_buf.len)));
        Assert.Equal(12, Offset<io_uring_buf>(nameof(io_uring_buf.bid)));
        Assert.Equal(14, Offset<io_uring_buf>(nameof(io_uring_buf.resv)));
        Assert.Equal(16, Unsafe.SizeOf<io_uring_buf_ring>());
        Assert.Equal(Offset<io_uring_buf>(nameof(io_uring_buf.resv)), Offset<io_uring_buf_ring>(nameof(io_uring_buf_ring.tail)));
        Assert.Equal(40, Unsafe.SizeOf<io_uring_buf_reg>());
        Assert.Equal(8, Offset<io_uring_buf_reg>(nameof(io_uring_buf_reg.ring_entries)));
        Assert.Equal(12, Offset<io_uring_buf_reg>(nameof(io_uring_buf_reg.bgid)));
        Assert.Equal(16, Offset<io_uring_buf_reg>(nameof(io_uring_buf_reg.resv)));
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
