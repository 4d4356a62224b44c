using System.Net.Sockets;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>
/// The completion model on Linux: every accept, receive, send and close is a request queued to the
/// kernel through io_uring, and the loop learns about each one only when it is finished.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. Readiness (select, poll, epoll) asks "which sockets could I read now?" and then makes the read
///    itself. Completion turns that around: we hand the kernel a buffer and say "receive into this",
///    and it tells us only when it is "done, n bytes". That passes the POSIX test for asynchronous IO
///    (UNP 6.2): the request does not block us, no second call is needed, and the completion arrives
///    with the data already in our buffer. Which thread's CPU does the copy is a separate question:
///    for a socket, io_uring tries the receive when it is submitted, arms an internal poll if there
///    is no data, and retries when the socket becomes readable, as task work on the submitting
///    thread. So the copy runs in the kernel on this loop's own thread: with DEFER_TASKRUN (point
///    10) inside our io_uring_enter, on older kernels when the kernel interrupts the thread.
/// 2. The requests and the answers travel through two rings shared with the kernel (see Ring.cs): we
///    write submission entries (SQEs) and publish them; one io_uring_enter call both submits a whole
///    batch and sleeps until completions (CQEs) arrive. Many operations, one system call.
/// 3. Contrast with <c>async</c>: .NET's async sockets on Linux are readiness underneath (the
///    runtime's epoll thread, then a non-blocking recv on a pool thread). Here no thread ever calls
///    recv or send: the kernel does.
/// 4. Because the kernel writes into the buffer at a time of its choosing, the buffer must not move
///    or be freed while the receive is in flight: each connection's buffers are native memory, freed
///    only after its close completed. (The price: a receive is always pending, so every idle
///    connection holds its receive buffer. io_uring's provided buffers remove that; not shown here.)
/// 5. One accept request serves every client: a multishot accept (Linux 5.19+) completes once per
///    connection and stays armed; older kernels re-arm a single-shot accept after each one.
/// 6. Each completion carries the user_data we gave its request: the connection id and the step
///    (receive, send, close, ...), so the loop knows what finished without any lookup by descriptor.
/// 7. Received bytes are uppercased into the connection's OutputBuffer, whose front is copied to the
///    send buffer and sent. A send may take fewer bytes than asked: the rest is sent again.
///    Backpressure: no receive is submitted while the OutputBuffer is full.
/// 8. Ending a connection is also asynchronous: cancel what is in flight, wait for those
///    completions, then submit the close. Half-close: after the last echo, shutdown(SHUT_WR), close.
/// 9. With --loops N there are N rings and N threads, each with its own SO_REUSEPORT listener; the
///    kernel spreads new connections over them. Stop writes each loop's eventfd, whose pending read
///    completes and wakes the loop; it drains (point 11), cancels the rest, waits until the kernel holds
///    nothing of ours, and ends.
/// 10. Where the kernel finishes a request matters for speed. By default, data arriving for a pending
///    receive interrupts the loop's thread at once to run the receive, while the sender's core is
///    still inside the TCP stack holding that socket's lock, so the receive spins waiting for it
///    (perf: 13-70% of the loop's time in the lock's slow path on 2 cores). Each ring is therefore
///    made with IORING_SETUP_DEFER_TASKRUN (Linux 6.1+, with SINGLE_ISSUER, enabled from the loop's
///    own thread): the kernel queues that work and runs it, in a batch, only when the loop waits in
///    io_uring_enter. Older kernels get an ordinary ring.
/// 11. Stop drains, in completion terms: the first wake cancels the accept and every posted receive
///    (one that completes with data before its cancel is echoed: those bytes were read). Once a
///    connection has nothing in flight and nothing queued, a shutdown request sends FIN, and its
///    receives go on into the same buffer only to be thrown away, until the client closes. At the
///    drain deadline a second wake cuts what is left: cancel, wait for the completions, then close(2)
///    with SO_LINGER 0, a reset.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed unsafe partial class UringEchoServer : EchoServerBase
{
    /// <summary>
    /// Submission slots per ring. A full queue is submitted and refilled at once, so this bounds only
    /// how many requests go to the kernel per system call: 1,024 covers a burst of a thousand new
    /// connections (one receive each) in one io_uring_enter.
    /// </summary>
    private const uint SubmissionQueueEntries = 1024;

    /// <summary>
    /// Completion slots per ring: 8x the submission queue, since every connection can have a receive
    /// and a send in flight. More completions than this wait in the kernel's overflow list
    /// (IORING_FEAT_NODROP) rather than being lost.
    /// </summary>
    private const uint CompletionQueueEntries = 8192;

    private readonly List<UringLoop> _loops = [];

    public UringEchoServer(EchoServerOptions options)
        : base("uring", options)
    {
    }

    protected override bool ReusePort => Options.Loops > 1;

    protected override void StartCore(Socket listener)
    {
        WarmUp();
        try
        {
            for (int i = 0; i < Options.Loops; i++)
            {
                // Loop 0 serves the listener the base bound; every other loop binds its own on the same port.
                Socket? own = i == 0 ? null : SocketSetup.CreateListener(Options with { EndPoint = LocalEndPoint }, reusePort: true);
                try
                {
                    var loop = new UringLoop(i, own ?? listener, own, SubmissionQueueEntries, CompletionQueueEntries);
                    // A multishot accept takes descriptors before we can look at the reserve, so only where the
                    // limit is beyond every connection the server may hold plus a full backlog per listener.
                    loop.MultishotAccept &= !DescriptorHeadroom.CouldReachReserve(Options.MaxConnections + ((long)Options.Backlog * Options.Loops));
                    _loops.Add(loop);
                }
                catch
                {
                    own?.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            _loops.ForEach(loop => loop.Dispose());
            _loops.Clear();
            throw;
        }

        foreach (UringLoop loop in _loops)
        {
            StartThread($"uring-loop-{loop.Index}", () => Run(loop));
        }
    }

    /// <summary>
    /// Runs the echo path once before serving. The first call of a method can load an assembly (a
    /// facade such as System.Memory, which the IL names for AsSpan and friends), and loading opens a
    /// file. If that first call came while the process was out of descriptors (EMFILE, exactly when
    /// accept backs off) the load would fail inside the loop: seen under prlimit --nofile=150 with 250 clients.
    /// </summary>
    private static void WarmUp()
    {
        using var queue = new OutputBuffer(16);
        Span<byte> sample = stackalloc byte[] { (byte)'a', (byte)'b' };
        AsciiUpper.ToUpperInPlace(sample);
        queue.Append(sample);
        queue.GetReadSpan().CopyTo(sample);
        queue.Consume(sample.Length);
        _ = SocketErrors.IsResourceExhaustion(ToSocketError(Interop.Libc.EMFILE));
        _ = IsConnectionLost(Interop.Libc.ECONNRESET);
    }

    private void Run(UringLoop loop)
    {
        try
        {
            loop.Ring.EnableOnThisThread();
            ArmWake(loop);
            ArmAccept(loop);
            TimeSpan? sweepPeriod = Idle.Enabled ? Idle.SweepPeriod : null;
            loop.NextSweep = Environment.TickCount64 + (long)(sweepPeriod?.TotalMilliseconds ?? 0);
            long entersCounted = 0;
            long submittedAtLastWait = 0;
            while (!(loop.Aborting && loop.InFlight == 0))
            {
                if (Stopping && !loop.Draining)
                {
                    Drain(loop);
                }

                if (Aborting && !loop.Aborting)
                {
                    Abort(loop);
                }

                // One system call: submit everything prepared since the last one, then sleep until a
                // completion arrives (or the idle sweep is due).
                loop.Ring.SubmitAndWait(sweepPeriod, out bool timedOut);
                Statistics.Add(EchoCounter.Waits, loop.Ring.EnterCalls - entersCounted); // this one, and any made when the queue filled
                entersCounted = loop.Ring.EnterCalls;
                if (timedOut)
                {
                    Statistics.Increment(EchoCounter.WaitTimeouts);
                }

                long submitted = Statistics[EchoCounter.Submissions];
                int reaped = ReapCompletions(loop);
                Statistics.Add(EchoCounter.ReadyEvents, reaped);
                Trace.Record(TraceEvent.CompletionsReaped, 0, reaped, submitted - submittedAtLastWait);
                submittedAtLastWait = submitted;
                if (sweepPeriod is { } period && Environment.TickCount64 >= loop.NextSweep)
                {
                    loop.NextSweep = Environment.TickCount64 + (long)period.TotalMilliseconds;
                    CloseIdle(loop);
                }
            }
        }
        finally
        {
            EndLoop(loop);
        }
    }

    private int ReapCompletions(UringLoop loop)
    {
        int reaped = 0;
        while (loop.Ring.TryReadCqe(out io_uring_cqe cqe))
        {
            reaped++;
            Statistics.Increment(EchoCounter.Completions);
            if ((cqe.flags & IORING_CQE_F_MORE) == 0)
            {
                loop.InFlight--; // this request is finished (a multishot accept with F_MORE is still armed)
            }

            var op = (UringOp)(cqe.user_data & 0xFF);
            long id = (long)(cqe.user_data >> 8);
            switch (op)
            {
                case UringOp.Accept:
                    OnAccepted(loop, cqe);
                    break;
                case UringOp.AcceptRetry:
                    ResumeAccepting(loop); // the back-off delay is over (or was cancelled by stop)
                    break;
                case UringOp.Wake:
                    // Stop wrote the eventfd; the loop sees Stopping or Aborting at the top. It wakes twice
                    // (drain, then cut), so the read is armed again until the cut cancels it.
                    if (!loop.Aborting)
                    {
                        ArmWake(loop);
                    }

                    break;
                case UringOp.Cancel:
                    // 0 or -ENOENT/-EALREADY: either way the cancelled request reports its own completion.
                    break;
                default:
                    OnConnectionCompletion(loop, loop.Connections[id], op, cqe.res);
                    break;
            }
        }

        return reaped;
    }

    // ---- Serving a connection ----

    private void OnConnectionCompletion(UringLoop loop, UringConnection connection, UringOp op, int result)
    {
        switch (op)
        {
            case UringOp.Receive:
                connection.ReceivePending = false;
                OnReceived(loop, connection, result);
                break;
            case UringOp.Send:
                connection.SendPending = false;
                OnSent(loop, connection, result);
                break;
            case UringOp.Shutdown:
                connection.ShutdownPending = false;
                OnShutdown(loop, connection, result);
                break;
            case UringOp.Discard:
                connection.ReceivePending = false;
                OnDiscarded(loop, connection, result);
                break;
            case UringOp.Close:
                Finish(loop, connection); // close(2) releases the descriptor even when it reports an error
                break;
            default:
                throw new InvalidOperationException($"Unexpected io_uring completion {op} for connection {connection.Id}.");
        }
    }

    private void PostReceive(UringLoop loop, UringConnection connection)
    {
        if (connection.ReceivePending || connection.ReadClosed || connection.Closing || loop.Draining)
        {
            return; // stopping: nothing new is read for echoing
        }

        int length = Math.Min(connection.BufferSize, connection.Output.FreeSpace);
        if (length == 0)
        {
            return; // backpressure: the OutputBuffer is full; the next completed send frees space and posts again
        }

        io_uring_sqe* sqe = Prepare(loop, IORING_OP_RECV, connection.Fd, UserData(connection.Id, UringOp.Receive));
        sqe->addr = (ulong)connection.ReceiveBuffer;
        sqe->len = (uint)length;
        connection.ReceivePending = true;
        Statistics.Increment(EchoCounter.ReceiveCalls);
    }

    private void OnReceived(UringLoop loop, UringConnection connection, int result)
    {
        if (result > 0)
        {
            // The kernel already copied the bytes here: uppercase them and queue the echo. They fit:
            // the receive asked for no more than the queue's free space, and only sends changed it since.
            var received = new Span<byte>(connection.ReceiveBuffer, result);
            AsciiUpper.ToUpperInPlace(received);
            connection.Output.Append(received);
            connection.BytesIn += result;
            connection.Touch();
            Statistics.Add(EchoCounter.BytesIn, result);
        }

        if (connection.Closing)
        {
            SubmitCloseWhenIdle(loop, connection); // cancelled, or raced the cancel: what it read counts as unechoed
            return;
        }

        if (result > 0)
        {
            PostSend(loop, connection);
            PostReceive(loop, connection);
        }
        else if (result == 0)
        {
            connection.ReadClosed = true; // end of stream: send what is queued, then close
            FinishIfFlushed(loop, connection);
        }
        else if (result == -Interop.Libc.ECANCELED && loop.Draining)
        {
            ContinueDrain(loop, connection); // stop cancelled the receive before any data came
        }
        else
        {
            Fail(loop, connection, "recv", -result);
        }
    }

    private void PostSend(UringLoop loop, UringConnection connection)
    {
        if (connection.SendPending || connection.Closing)
        {
            return;
        }

        if (connection.SendOffset == connection.SendStaged)
        {
            if (connection.Output.IsEmpty)
            {
                return;
            }

            // Copy the front of the queue to memory that stays put while the kernel sends from it.
            ReadOnlySpan<byte> queued = connection.Output.GetReadSpan();
            int staged = Math.Min(queued.Length, connection.BufferSize);
            queued[..staged].CopyTo(new Span<byte>(connection.SendBuffer, staged));
            connection.SendStaged = staged;
            connection.SendOffset = 0;
        }

        io_uring_sqe* sqe = Prepare(loop, IORING_OP_SEND, connection.Fd, UserData(connection.Id, UringOp.Send));
        sqe->addr = (ulong)(connection.SendBuffer + connection.SendOffset);
        sqe->len = (uint)(connection.SendStaged - connection.SendOffset);
        sqe->op_flags = (uint)Interop.Libc.MSG_NOSIGNAL; // msg_flags: a reset peer gives EPIPE, not SIGPIPE
        connection.SendPending = true;
        Statistics.Increment(EchoCounter.SendCalls);
    }

    private void OnSent(UringLoop loop, UringConnection connection, int result)
    {
        if (result > 0)
        {
            // Counted even when the connection is ending: the kernel took these bytes, so they are echoed.
            connection.Output.Consume(result);
            connection.SendOffset += result;
            connection.BytesOut += result;
            connection.Touch();
            Statistics.Add(EchoCounter.BytesOut, result);
            if (connection.SendOffset == connection.SendStaged)
            {
                connection.SendOffset = connection.SendStaged = 0;
            }
        }

        if (connection.Closing)
        {
            SubmitCloseWhenIdle(loop, connection);
            return;
        }

        if (result < 0)
        {
            Fail(loop, connection, "send", -result);
            return;
        }

        PostSend(loop, connection);    // a partial send resubmits the rest; otherwise the next queued bytes
        PostReceive(loop, connection); // the queue has room again: resume receiving if backpressure stopped it
        FinishIfFlushed(loop, connection);
        ContinueDrain(loop, connection);
    }

    /// <summary>A client that half-closed has every echo: shut down our sending side, then close.</summary>
    private void FinishIfFlushed(UringLoop loop, UringConnection connection)
    {
        if (!connection.ReadClosed || connection.SendPending || !connection.Output.IsEmpty || connection.Closing)
        {
            return;
        }

        connection.Closing = true;
        connection.Reason = CloseReason.ClientClosed;
        PostShutdown(loop, connection);
    }

    private void PostShutdown(UringLoop loop, UringConnection connection)
    {
        io_uring_sqe* sqe = Prepare(loop, IORING_OP_SHUTDOWN, connection.Fd, UserData(connection.Id, UringOp.Shutdown));
        sqe->len = SHUT_WR; // how
        connection.ShutdownPending = true;
    }

    private void OnShutdown(UringLoop loop, UringConnection connection, int result)
    {
        if (connection.Closing)
        {
            SubmitCloseWhenIdle(loop, connection); // after a half-close, or cut while draining: the close comes next either way
            return;
        }

        if (result < 0)
        {
            Fail(loop, connection, "shutdown", -result);
            return;
        }

        connection.SendShut = true; // stopping, and our FIN is out: from now on input is only discarded
        ContinueDrain(loop, connection);
    }

    private void Fail(UringLoop loop, UringConnection connection, string call, int errno)
    {
        if (!IsConnectionLost(errno))
        {
            ReportFault(new PlatformException(call, errno)); // not a peer's doing: EBADF, EFAULT and the like are bugs
        }

        BeginClose(loop, connection, CloseReason.Reset);
    }
}
