using System.Net.Sockets;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>Accepting: a multishot accept per loop (one at a time where the descriptor limit can be reached), its back-off, and admitting each connection.</summary>
public sealed unsafe partial class UringEchoServer
{
    // ---- Accepting ----

    /// <summary>
    /// Runs the echo and error paths once before serving. The first call of a method can load an
    /// assembly (a facade such as System.Memory, which the IL names for AsSpan and friends), and loading
    /// opens a file: that first call must not come while the process is out of descriptors, which is
    /// exactly when accepting backs off (docs/engineering-notes.md).
    /// </summary>
    private static void WarmUp()
    {
        using var queue = new OutputBuffer(16);
        Span<byte> sample = stackalloc byte[] { (byte)'a', (byte)'b' };
        AsciiUpper.ToUpperInPlace(sample);
        queue.Append(sample);
        queue.GetReadSpan().CopyTo(sample);
        queue.Consume(sample.Length);
        _ = SocketErrors.IsResourceExhaustion(Interop.Libc.ToSocketError(Interop.Libc.EMFILE));
        _ = SocketErrors.IsConnectionLost(Interop.Libc.ToSocketError(Interop.Libc.ECONNRESET));
    }

    private void ArmAccept(UringLoop loop)
    {
        io_uring_sqe* sqe = Prepare(loop, IORING_OP_ACCEPT, loop.ListenFd, UserData(0, UringOp.Accept));
        sqe->op_flags = SOCK_CLOEXEC; // accept_flags; addr and addrlen stay 0: the peer address is read later
        if (loop.MultishotAccept)
        {
            sqe->ioprio = IORING_ACCEPT_MULTISHOT;
        }
    }

    /// <summary>
    /// One accept completion, decided by the shared <see cref="AcceptPolicy"/>. The kernel accepts ahead
    /// of us, so the descriptor reserve is checked after each connection rather than before.
    /// </summary>
    private void OnAccepted(UringLoop loop, io_uring_cqe cqe)
    {
        bool stillArmed = (cqe.flags & IORING_CQE_F_MORE) != 0;
        AcceptDecision decision = AcceptDecision.Done;
        if (cqe.res >= 0)
        {
            loop.AcceptPolicy.Accepted();
            Open(loop, cqe.res);
            if (!loop.AcceptPaused)
            {
                decision = loop.AcceptPolicy.BeforeAccept(); // nearly out of descriptors: pause, as on EMFILE
            }
        }
        else if (loop.Draining || -cqe.res == Interop.Libc.ECANCELED)
        {
            // Expected: stop (or a pause) cancelled the accept; its last completion ends accepting (below).
        }
        else if (-cqe.res == Interop.Libc.EINVAL && loop.MultishotAccept && !stillArmed)
        {
            loop.MultishotAccept = false; // this kernel refuses multishot accept: re-arm one at a time
            EchoLog.Note(Log, Model, "multishot accept refused by the kernel; accepting one connection per request");
        }
        else
        {
            decision = loop.AcceptPolicy.FailedWithErrno(-cqe.res);
        }

        if (decision.Step == AcceptStep.Pause)
        {
            if (stillArmed && !loop.AcceptPaused)
            {
                Cancel(loop, UserData(0, UringOp.Accept)); // a multishot accept would go on taking descriptors
            }

            PauseAccepting(loop, decision.Delay); // re-arm only after the back-off, or accept would fail at once again
            return;
        }

        if (!stillArmed && !loop.AcceptPaused)
        {
            AcceptEnded(loop); // re-arm (Done, Retry, Skip), or stop listening once stop began
        }
    }

    /// <summary>No accept is armed any more: arm the next one, or, once stop began, stop listening.</summary>
    private void AcceptEnded(UringLoop loop)
    {
        if (loop.Draining)
        {
            loop.CloseListener();
        }
        else
        {
            ArmAccept(loop);
        }
    }

    /// <summary>Accepting waits <paramref name="delay"/>: one retry timer however many completions ask (a cancelled multishot may still deliver).</summary>
    private void PauseAccepting(UringLoop loop, TimeSpan delay)
    {
        if (!loop.AcceptPaused)
        {
            loop.AcceptPaused = true;
            ArmAcceptRetry(loop, delay);
        }
    }

    /// <summary>The back-off is over: accept again, unless the descriptors are still low (then wait once more).</summary>
    private void ResumeAccepting(UringLoop loop)
    {
        loop.AcceptPaused = false;
        if (!loop.Draining && loop.AcceptPolicy.BeforeAccept() is { Step: AcceptStep.Pause } decision)
        {
            PauseAccepting(loop, decision.Delay);
            return;
        }

        AcceptEnded(loop); // accept again, or, once stop began, stop listening
    }

    private void ArmAcceptRetry(UringLoop loop, TimeSpan delay)
    {
        loop.RetryDelay->tv_sec = delay.Ticks / TimeSpan.TicksPerSecond;
        loop.RetryDelay->tv_nsec = delay.Ticks % TimeSpan.TicksPerSecond * 100;
        io_uring_sqe* sqe = Prepare(loop, IORING_OP_TIMEOUT, -1, UserData(0, UringOp.AcceptRetry));
        sqe->addr = (ulong)loop.RetryDelay;
        sqe->len = 1;
    }

    private void Open(UringLoop loop, int fd)
    {
        // A Socket over the descriptor, only to reuse the shared admission (limit, TCP_NODELAY, log
        // line). It does not own the descriptor: the ring does, and closes it with IORING_OP_CLOSE.
        Socket socket;
        try
        {
            socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        }
        catch (SocketException exception) when (SocketErrors.IsConnectionLost(exception.SocketErrorCode))
        {
            _ = Interop.Libc.Close(fd); // reset before we could even look at it: nothing to serve
            EchoLog.AcceptFailed(Log, Model, new SocketErrorCode(exception.SocketErrorCode));
            return;
        }

        long id = Admit(socket);
        if (id == 0)
        {
            _ = Interop.Libc.Close(fd); // refused: Admit disposed the wrapper, which does not close what it does not own
            return;
        }

        var connection = new UringConnection(id, fd, RemoteOf(socket), Options, Statistics, ownsBuffers: loop.Buffers is null);
        Track(connection);
        loop.Connections[id] = connection;
        PostReceive(loop, connection);
    }
}
