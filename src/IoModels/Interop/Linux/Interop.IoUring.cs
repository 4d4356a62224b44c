using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// io_uring, from &lt;linux/io_uring.h&gt;: the three system calls (called through libc's
    /// <c>syscall</c>, as glibc has no wrappers), the structs shared with the kernel, and the constants
    /// the <c>uring</c> engine uses, named as in C. The syscall numbers 425-427 are the same on every
    /// Linux architecture (io_uring arrived after the tables were unified).
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class IoUring
    {
        internal const int SYS_io_uring_setup = 425;
        internal const int SYS_io_uring_enter = 426;
        internal const int SYS_io_uring_register = 427;

        // mmap offsets selecting which region of the ring fd to map.
        internal const long IORING_OFF_SQ_RING = 0;
        internal const long IORING_OFF_CQ_RING = 0x8000000;
        internal const long IORING_OFF_SQES = 0x10000000;

        // io_uring_params.flags
        internal const uint IORING_SETUP_CQSIZE = 1U << 3;
        internal const uint IORING_SETUP_CLAMP = 1U << 4;
        internal const uint IORING_SETUP_R_DISABLED = 1U << 6;      // 5.10: created disabled, enabled by IORING_REGISTER_ENABLE_RINGS
        internal const uint IORING_SETUP_SINGLE_ISSUER = 1U << 12;  // 6.0: one task submits (the one that enabled the ring)
        internal const uint IORING_SETUP_DEFER_TASKRUN = 1U << 13;  // 6.1: completion work runs only when that task waits

        // io_uring_params.features
        internal const uint IORING_FEAT_SINGLE_MMAP = 1U << 0;
        internal const uint IORING_FEAT_NODROP = 1U << 1;
        internal const uint IORING_FEAT_SUBMIT_STABLE = 1U << 2;
        internal const uint IORING_FEAT_FAST_POLL = 1U << 5;
        internal const uint IORING_FEAT_EXT_ARG = 1U << 8;

        // io_uring_enter flags
        internal const uint IORING_ENTER_GETEVENTS = 1U << 0;
        internal const uint IORING_ENTER_EXT_ARG = 1U << 3;

        // io_uring_register opcodes
        internal const uint IORING_REGISTER_PROBE = 8;
        internal const uint IORING_REGISTER_ENABLE_RINGS = 12;
        internal const uint IORING_REGISTER_PBUF_RING = 22;          // 5.19: a ring of provided buffers (io_uring_buf_reg)
        internal const ushort IO_URING_OP_SUPPORTED = 1 << 0;

        // Opcodes (enum io_uring_op).
        internal const byte IORING_OP_NOP = 0;
        internal const byte IORING_OP_TIMEOUT = 11;
        internal const byte IORING_OP_ACCEPT = 13;
        internal const byte IORING_OP_ASYNC_CANCEL = 14;
        internal const byte IORING_OP_CLOSE = 19;
        internal const byte IORING_OP_READ = 22;
        internal const byte IORING_OP_SEND = 26;
        internal const byte IORING_OP_RECV = 27;
        internal const byte IORING_OP_SHUTDOWN = 34;

        // io_uring_sqe.flags
        internal const byte IOSQE_IO_LINK = 1 << 2;

        /// <summary>The kernel picks the buffer from the group in sqe.buf_group when data is there (provided buffers).</summary>
        internal const byte IOSQE_BUFFER_SELECT = 1 << 5;

        /// <summary>In sqe.ioprio of a receive: keep receiving, one completion per chunk, into provided buffers (6.0+).</summary>
        internal const ushort IORING_RECV_MULTISHOT = 1 << 1;

        /// <summary>In sqe.ioprio of an accept: keep accepting, one completion per connection (5.19+).</summary>
        internal const ushort IORING_ACCEPT_MULTISHOT = 1 << 0;

        // io_uring_cqe.flags
        /// <summary>The completion used a provided buffer; its id is in the upper 16 bits of cqe.flags.</summary>
        internal const uint IORING_CQE_F_BUFFER = 1U << 0;

        /// <summary>cqe.flags &gt;&gt; IORING_CQE_BUFFER_SHIFT is the provided buffer's id (with IORING_CQE_F_BUFFER).</summary>
        internal const int IORING_CQE_BUFFER_SHIFT = 16;

        /// <summary>The multishot request is still armed: more completions will come for this user_data.</summary>
        internal const uint IORING_CQE_F_MORE = 1U << 1;

        // Flags for the accepted socket and for shutdown, from the socket headers.
        internal const uint SOCK_CLOEXEC = 0x80000;
        internal const int SHUT_WR = 1;

        [StructLayout(LayoutKind.Sequential)]
        internal struct io_sqring_offsets
        {
            public uint head;
            public uint tail;
            public uint ring_mask;
            public uint ring_entries;
            public uint flags;
            public uint dropped;
            public uint array;
            public uint resv1;
            public ulong user_addr;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct io_cqring_offsets
        {
            public uint head;
            public uint tail;
            public uint ring_mask;
            public uint ring_entries;
            public uint overflow;
            public uint cqes;
            public uint flags;
            public uint resv1;
            public ulong user_addr;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_params
        {
            public uint sq_entries;
            public uint cq_entries;
            public uint flags;
            public uint sq_thread_cpu;
            public uint sq_thread_idle;
            public uint features;
            public uint wq_fd;
            public fixed uint resv[3];
            public io_sqring_offsets sq_off;
            public io_cqring_offsets cq_off;
        }

        /// <summary>A submission queue entry: 64 bytes. The C unions are flattened to the members the engine uses.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 64)]
        internal struct io_uring_sqe
        {
            [FieldOffset(0)] public byte opcode;
            [FieldOffset(1)] public byte flags;
            [FieldOffset(2)] public ushort ioprio;
            [FieldOffset(4)] public int fd;
            [FieldOffset(8)] public ulong off;          // union: off, addr2
            [FieldOffset(16)] public ulong addr;        // union: addr, splice_off_in
            [FieldOffset(24)] public uint len;
            [FieldOffset(28)] public uint op_flags;     // union: msg_flags, accept_flags, cancel_flags, timeout_flags, ...
            [FieldOffset(32)] public ulong user_data;
            [FieldOffset(40)] public ushort buf_index;  // union: buf_index, buf_group
            [FieldOffset(42)] public ushort personality;
            [FieldOffset(44)] public int splice_fd_in;  // union: splice_fd_in, file_index, optlen
            [FieldOffset(48)] public ulong addr3;
            [FieldOffset(56)] public ulong pad2;
        }

        /// <summary>A completion queue entry: 16 bytes. <see cref="res"/> is the call's result, or -errno.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_cqe
        {
            public ulong user_data;
            public int res;
            public uint flags;
        }

        /// <summary>The extended argument of io_uring_enter (IORING_ENTER_EXT_ARG): a wait timeout without a timeout sqe.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_getevents_arg
        {
            public ulong sigmask;
            public uint sigmask_sz;
            public uint min_wait_usec;
            public ulong ts;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct __kernel_timespec
        {
            public long tv_sec;
            public long tv_nsec;
        }

        /// <summary>One provided buffer in a buffer ring: 16 bytes. Entry 0's <see cref="resv"/> is the ring's tail.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_buf
        {
            public ulong addr;
            public uint len;
            public ushort bid;
            public ushort resv;
        }

        /// <summary>
        /// The head of a buffer ring, overlaying its first <see cref="io_uring_buf"/> (C's union): the only
        /// field of ours is <see cref="tail"/>, which we advance as we add buffers; the kernel keeps the head.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_buf_ring
        {
            public ulong resv1;
            public uint resv2;
            public ushort resv3;
            public ushort tail;
        }

        /// <summary>The argument of IORING_REGISTER_PBUF_RING: where the ring is, its size (a power of 2) and its group id.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_buf_reg
        {
            public ulong ring_addr;
            public uint ring_entries;
            public ushort bgid;
            public ushort flags;
            public fixed ulong resv[3];
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_probe_op
        {
            public byte op;
            public byte resv;
            public ushort flags;
            public uint resv2;
        }

        /// <summary>The header of the probe result; <see cref="ProbeOpCount"/> io_uring_probe_op entries follow it.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct io_uring_probe
        {
            public byte last_op;
            public byte ops_len;
            public ushort resv;
            public fixed uint resv2[3];
        }

        /// <summary>Probe room for every opcode a u8 can name.</summary>
        internal const int ProbeOpCount = 256;

        /// <summary>io_uring_setup: creates a ring and returns its fd, or -1 with errno set.</summary>
        internal static int Setup(uint entries, io_uring_params* parameters) =>
            (int)SyscallSetup(SYS_io_uring_setup, entries, parameters);

        /// <summary>io_uring_enter: submits <paramref name="toSubmit"/> entries and waits for <paramref name="minComplete"/> completions.</summary>
        internal static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
            (int)SyscallEnter(SYS_io_uring_enter, (uint)ringFd, toSubmit, minComplete, flags, argument, argumentSize);

        /// <summary>io_uring_register: registers resources with the ring, or asks it questions (IORING_REGISTER_PROBE).</summary>
        internal static int Register(int ringFd, uint opcode, void* argument, uint count) =>
            (int)SyscallRegister(SYS_io_uring_register, (uint)ringFd, opcode, argument, count);

        // Typed overloads of the variadic syscall(2). Integer arguments are widened to nuint so every
        // register the kernel reads is fully defined, whatever the JIT leaves in its upper half.
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial nint SyscallSetup(nint number, nuint entries, io_uring_params* parameters);

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial nint SyscallEnter(nint number, nuint fd, nuint toSubmit, nuint minComplete, nuint flags, void* argument, nuint argumentSize);

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial nint SyscallRegister(nint number, nuint fd, nuint opcode, void* argument, nuint count);
    }
}
