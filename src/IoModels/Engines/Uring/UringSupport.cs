using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>
/// Whether this process can use io_uring, decided once: the OS, the kernel's age, the
/// kernel.io_uring_disabled switch, and whether a seccomp filter or container policy refuses the
/// system call. The answer is a clear reason (or null) for the registry, so <c>iomodels models</c>
/// can say why the model is missing rather than failing when it starts.
/// </summary>
public static class UringSupport
{
    /// <summary>The oldest kernel with everything the engine submits (IORING_OP_SHUTDOWN and IORING_FEAT_EXT_ARG came in 5.11).</summary>
    private static readonly Version s_minimumKernel = new(5, 11);

    /// <summary>Multishot accept (IORING_ACCEPT_MULTISHOT) came in 5.19; older kernels re-arm a single-shot accept.</summary>
    private static readonly Version s_multishotAcceptKernel = new(5, 19);

    /// <summary>Multishot receive (IORING_RECV_MULTISHOT) came in 6.0, its byte limit later (probed); buffer rings in 5.19.</summary>
    private static readonly Version s_multishotReceiveKernel = new(6, 0);

    private static readonly Lazy<string?> s_reason = new(Detect);

    private static readonly Lazy<bool> s_providedBuffers = new(() => OperatingSystem.IsLinux() && ProbeProvidedBuffers());

    /// <summary>The oldest kernel the uring model runs on (the registry states it; the explain texts must agree).</summary>
    public static Version MinimumKernel => s_minimumKernel;

    /// <summary>Why io_uring cannot be used here, or null when it can.</summary>
    public static string? UnsupportedReason => s_reason.Value;

    /// <summary>True when the kernel accepts a multishot accept (5.19+).</summary>
    public static bool MultishotAccept => OperatingSystem.IsLinux() && Environment.OSVersion.Version >= s_multishotAcceptKernel;

    /// <summary>
    /// True when the kernel accepts a provided-buffer ring (5.19+) and a multishot receive (6.0+) with a
    /// total byte limit (6.17+), asked once of a small ring: then each loop receives into one shared pool
    /// of buffers, and no idle connection holds one. The limit is what keeps backpressure exact: without
    /// it a multishot receive drains a socket into as many buffers as it likes before a cancel arrives.
    /// Otherwise each connection has its own receive buffer, always posted.
    /// </summary>
    public static bool ProvidedBuffers => s_providedBuffers.Value;

    /// <summary>What the registry and <c>iomodels models</c> show: which receive path this kernel gets.</summary>
    public static string Mechanism => ProvidedBuffers
        ? "io_uring, multishot receive into provided buffers"
        : "io_uring, a receive buffer per connection";

    private static string? Detect()
    {
        if (!OperatingSystem.IsLinux())
        {
            return $"io_uring is a Linux interface and this is {RuntimeInformation.OSDescription}";
        }

        Version kernel = Environment.OSVersion.Version;
        string? disabled = ReadDisabledSwitch();
        return CheckKernel(kernel, disabled) ?? ProbeRing(kernel, disabled);
    }

    /// <summary>The reason known before trying: a kernel too old, or io_uring switched off. Null: go on and try.</summary>
    internal static string? CheckKernel(Version kernel, string? disabledSwitch)
    {
        if (kernel < s_minimumKernel)
        {
            return $"kernel {kernel} is too old: the uring model needs Linux {s_minimumKernel} or later (IORING_OP_SHUTDOWN, timed waits)";
        }

        return disabledSwitch == "2" ? "io_uring is disabled on this system (sysctl kernel.io_uring_disabled = 2)" : null;
    }

    /// <summary>Why io_uring_setup failed with <paramref name="errno"/> (a Linux errno), naming the likely cause.</summary>
    [SupportedOSPlatform("linux")]
    internal static string DescribeSetupFailure(int errno, Version kernel, string? disabledSwitch)
    {
        if (errno == Interop.Libc.EPERM)
        {
            return disabledSwitch == "1"
                ? "io_uring_setup was refused (EPERM): sysctl kernel.io_uring_disabled = 1 allows it only to root and the io_uring group"
                : "io_uring_setup was refused (EPERM): a seccomp filter or container policy blocks io_uring (Docker's default profile does)";
        }

        if (errno == Interop.Libc.ENOSYS)
        {
            return $"io_uring_setup does not exist here (ENOSYS): kernel {kernel} was built without io_uring, or a seccomp filter hides it";
        }

        return $"io_uring_setup failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }

    [SupportedOSPlatform("linux")]
    private static unsafe string? ProbeRing(Version kernel, string? disabled)
    {
        io_uring_params parameters = default;
        int fd = Setup(2, &parameters); // the smallest ring: this only asks whether the kernel says yes
        if (fd < 0)
        {
            return DescribeSetupFailure(Marshal.GetLastPInvokeError(), kernel, disabled);
        }

        try
        {
            if ((parameters.features & IORING_FEAT_EXT_ARG) == 0 || (parameters.features & IORING_FEAT_NODROP) == 0)
            {
                return $"kernel {kernel} lacks IORING_FEAT_EXT_ARG or IORING_FEAT_NODROP: the uring model needs Linux {s_minimumKernel} or later";
            }

            return ProbeOpcodes(fd);
        }
        finally
        {
            _ = Interop.Libc.Close(fd);
        }
    }

    [SupportedOSPlatform("linux")]
    private static unsafe string? ProbeOpcodes(int fd)
    {
        int size = sizeof(io_uring_probe) + (ProbeOpCount * sizeof(io_uring_probe_op));
        byte* buffer = stackalloc byte[size];
        new Span<byte>(buffer, size).Clear();
        if (Register(fd, IORING_REGISTER_PROBE, buffer, ProbeOpCount) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return $"io_uring_register(IORING_REGISTER_PROBE) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        }

        var probe = (io_uring_probe*)buffer;
        var ops = (io_uring_probe_op*)(buffer + sizeof(io_uring_probe));
        (byte Op, string Name)[] needed =
        [
            (IORING_OP_ACCEPT, "IORING_OP_ACCEPT"), (IORING_OP_RECV, "IORING_OP_RECV"), (IORING_OP_SEND, "IORING_OP_SEND"),
            (IORING_OP_CLOSE, "IORING_OP_CLOSE"), (IORING_OP_SHUTDOWN, "IORING_OP_SHUTDOWN"),
            (IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"), (IORING_OP_READ, "IORING_OP_READ"), (IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"),
        ];
        foreach ((byte op, string name) in needed)
        {
            if (op >= probe->ops_len || (ops[op].flags & IO_URING_OP_SUPPORTED) == 0)
            {
                return $"the kernel's io_uring does not support {name}";
            }
        }

        return null;
    }

    [SupportedOSPlatform("linux")]
    private static unsafe bool ProbeProvidedBuffers()
    {
        if (UnsupportedReason is not null || Environment.OSVersion.Version < s_multishotReceiveKernel)
        {
            return false;
        }

        ProvidedBuffers? buffers = null;
        try
        {
            using var ring = new Ring(2, 4);
            buffers = Uring.ProvidedBuffers.TryRegister(ring.Fd, 64, out _);
            return buffers is not null && AcceptsMultishotReceiveLimit(ring);
        }
        catch (PlatformException)
        {
            return false; // no ring at all: UnsupportedReason said yes a moment ago, so keep the plain path
        }
        finally
        {
            buffers?.Dispose(); // after the ring's using: closing it unregisters the buffer ring
        }
    }

    /// <summary>
    /// Whether the kernel takes a multishot receive with a total byte limit (sqe.optlen, Linux 6.17+).
    /// Asked on the ring's own descriptor, which is no socket: a kernel that knows the request checks
    /// it, then fails the receive with ENOTSOCK; one that does not refuses it with EINVAL.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static unsafe bool AcceptsMultishotReceiveLimit(Ring ring)
    {
        io_uring_sqe* sqe = ring.TryGetSqe();
        sqe->opcode = IORING_OP_RECV;
        sqe->fd = ring.Fd;
        sqe->ioprio = IORING_RECV_MULTISHOT;
        sqe->flags = IOSQE_BUFFER_SELECT;
        sqe->buf_index = Uring.ProvidedBuffers.GroupId;
        sqe->splice_fd_in = 1; // optlen: the total limit
        ring.SubmitAndWait(TimeSpan.FromSeconds(1), out bool timedOut);
        return !timedOut && ring.TryReadCqe(out io_uring_cqe cqe) && cqe.res != -Interop.Libc.EINVAL;
    }

    private static string? ReadDisabledSwitch()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Expected: the switch exists only since 6.6, and /proc may be hidden in a container; setup will tell.
            return null;
        }
    }
}
