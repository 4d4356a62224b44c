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
///    itself. Completion turns that around: we ask the kernel "receive for this connection", and it
///    tells us only when it is "done, n bytes, in buffer b". That passes the POSIX test for
///    asynchronous IO (UNP 6.2): the request does not block us, no second call is needed, and the
///    completion arrives with the data already in our memory. The copy runs in the kernel on this
///    loop's own thread: for a socket, io_uring tries the receive, arms an internal poll if there is
///    no data, and retries as task work when it becomes readable; with DEFER_TASKRUN (point 10) only
///    inside our io_uring_enter.
/// 2. The requests and the answers travel through two rings shared with the kernel (see Ring.cs): we
///    write submission entries (SQEs) and publish them; one io_uring_enter call both submits a whole
///    batch and sleeps until completions (CQEs) arrive. Many operations, one system call.
/// 3. Contrast with <c>async</c>: .NET's async sockets on Linux are readiness underneath (the
///    runtime's epoll thread, then a non-blocking recv on a pool thread). Here no thread ever calls
///    recv or send: the kernel does.
/// 4. Provided buffers (ProvidedBuffers.cs): each loop lends the kernel one pool of buffers through a
///    third shared ring. A receive names the pool, not a buffer; the kernel takes one only when data
///    is there, and the completion says which (its id in cqe.flags). So an idle connection holds no
///    buffer, however many there are. We uppercase in place, send from that same buffer (no copy),
///    and give it back to the ring once the send completed. The pool is native memory: the kernel
///    writes into it at times of its choosing, so it must never move, and is freed after the ring.
/// 5. One request serves many completions: a multishot receive (Linux 6.0+) stays armed and
///    completes once per chunk of data (IORING_CQE_F_MORE: more will come); a multishot accept
///    (5.19+) once per client. A multishot ends without F_MORE (end of stream, an error, a cancel,
///    ENOBUFS when the pool is empty): we arm it again, for ENOBUFS once a buffer comes back.
/// 6. Each completion carries the user_data we gave its request: the connection id and the step
///    (receive, send, close, ...), so the loop knows what finished without any lookup by descriptor.
/// 7. Backpressure: a client that stops reading holds its echoes, in pool buffers, up to its output
///    limit; then its receive is cancelled (what was already received is still echoed), and armed
///    again when its sends drain it. So one slow reader cannot empty the pool for everyone; a client
///    that holds its buffers and never reads is closed by the idle rule. A send may take fewer bytes
///    than asked: the rest is sent again.
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
///    receives go on into a scratch buffer only to be thrown away, until the client closes. At the
///    drain deadline a second wake cuts what is left: cancel, wait for the completions, then close(2)
///    with SO_LINGER 0, a reset.
/// 12. Kernels without multishot receive or provided-buffer rings (before 6.0) keep one receive and
///    its own buffer posted per connection, and copy each echo to a send buffer
///    (UringEchoServer.OwnBuffers.cs): an idle connection then costs its receive buffer.
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

    private void Run(UringLoop loop)
    {
        try
        {
            loop.Ring.EnableOnThisThread();
            UseProvidedBuffers(loop);
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
                // completion arrives (or the idle sweep is due). What this pass counted is published first.
                loop.FlushCounts(Statistics);
                loop.Ring.SubmitAndWait(sweepPeriod, out bool timedOut);
                loop.Count(EchoCounter.Waits, loop.Ring.EnterCalls - entersCounted); // this one, and any made when the queue filled
                entersCounted = loop.Ring.EnterCalls;
                if (timedOut)
                {
                    loop.Count(EchoCounter.WaitTimeouts);
                }

                int reaped = ReapCompletions(loop);
                loop.Count(EchoCounter.ReadyEvents, reaped);
                Trace.Record(TraceEvent.CompletionsReaped, 0, reaped, loop.Submitted - submittedAtLastWait);
                submittedAtLastWait = loop.Submitted;
                if (sweepPeriod is { } period && Environment.TickCount64 >= loop.NextSweep)
                {
                    loop.NextSweep = Environment.TickCount64 + (long)period.TotalMilliseconds;
                    CloseIdle(loop);
                }
            }
        }
        finally
        {
            loop.FlushCounts(Statistics);
            EndLoop(loop);
        }
    }

    private int ReapCompletions(UringLoop loop)
    {
        int reaped = 0;
        while (loop.Ring.TryReadCqe(out io_uring_cqe cqe))
        {
            reaped++;
            loop.Count(EchoCounter.Completions);
            if ((cqe.flags & IORING_CQE_F_MORE) == 0)
            {
                loop.InFlight--; // this request is finished (a multishot with F_MORE is still armed)
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
                    OnConnectionCompletion(loop, loop.Connections[id], op, cqe);
                    break;
            }
        }

        return reaped;
    }

    // ---- Serving a connection ----

    private void OnConnectionCompletion(UringLoop loop, UringConnection connection, UringOp op, io_uring_cqe cqe)
    {
        switch (op)
        {
            case UringOp.Receive when connection.OwnsBuffers:
                connection.ReceivePending = false;
                OnReceivedOwn(loop, connection, cqe.res);
                break;
            case UringOp.Receive:
                OnReceived(loop, connection, cqe.res, cqe.flags);
                break;
            case UringOp.Send:
                connection.SendPending = false;
                OnSent(loop, connection, cqe.res);
                break;
            case UringOp.Shutdown:
                connection.ShutdownPending = false;
                OnShutdown(loop, connection, cqe.res);
                break;
            case UringOp.Discard:
                connection.ReceivePending = false;
                OnDiscarded(loop, connection, cqe.res);
                break;
            case UringOp.Close:
                Finish(loop, connection); // close(2) releases the descriptor even when it reports an error
                break;
            default:
                throw new InvalidOperationException($"Unexpected io_uring completion {op} for connection {connection.Id}.");
        }
    }

    /// <summary>Arms the connection's one multishot receive: the kernel picks a pool buffer whenever data comes.</summary>
    private void PostReceive(UringLoop loop, UringConnection connection)
    {
        if (connection.OwnsBuffers)
        {
            PostReceiveOwn(loop, connection);
            return;
        }

        if (connection.ReceivePending || connection.ReadClosed || connection.Closing || loop.Draining)
        {
            return; // armed already, at end of stream, ending, or stopping: nothing new is read for echoing
        }

        // Backpressure, exact: the multishot may take only what keeps the queue within the output limit
        // (the kernel fills a whole buffer before it looks at the limit, hence a buffer's worth less).
        int size = loop.Buffers!.Size;
        long budget = (long)connection.OutputLimit - connection.Queued - (size - 1);
        if (budget <= 0 || (long)connection.HeldBuffers * size >= connection.OutputLimit)
        {
            return; // the client holds its limit, in bytes or in buffers: the send that frees some arms this again
        }

        io_uring_sqe* sqe = Prepare(loop, IORING_OP_RECV, connection.Fd, UserData(connection.Id, UringOp.Receive));
        sqe->ioprio = IORING_RECV_MULTISHOT;
        sqe->flags = IOSQE_BUFFER_SELECT;
        sqe->buf_index = ProvidedBuffers.GroupId; // buf_group: no address, no length; the buffer is the kernel's pick
        sqe->splice_fd_in = (int)budget;          // optlen: the multishot ends (no F_MORE) once it received this much
        connection.ReceivePending = true;
        loop.Count(EchoCounter.ReceiveCalls);
    }

    private void OnReceived(UringLoop loop, UringConnection connection, int result, uint flags)
    {
        if ((flags & IORING_CQE_F_MORE) == 0)
        {
            connection.ReceivePending = connection.ReceiveCancelled = false; // this multishot has ended
        }

        if ((flags & IORING_CQE_F_BUFFER) != 0)
        {
            int id = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
            if (result > 0)
            {
                // The kernel received into buffer `id`: uppercase it there; the echo is sent from there too.
                AsciiUpper.ToUpperInPlace(new Span<byte>(loop.Buffers!.Address(id), result));
                Hold(loop, connection, id, result);
                connection.BytesIn += result;
                connection.Touch();
                loop.Count(EchoCounter.BytesIn, result);
            }
            else
            {
                Recycle(loop, id); // it holds nothing
            }
        }

        if (connection.Closing)
        {
            SubmitCloseWhenIdle(loop, connection); // cancelled, or raced the cancel: what it read counts as unechoed
            return;
        }

        if (result > 0)
        {
            PostSend(loop, connection);
            if (connection.ReceivePending && !connection.ReceiveCancelled &&
                (long)connection.HeldBuffers * loop.Buffers!.Size >= connection.OutputLimit)
            {
                // Backpressure in buffers: many small receives can hold more buffers than bytes. Stop
                // taking pool buffers for this client; what completes before the cancel is still echoed.
                Cancel(loop, UserData(connection.Id, UringOp.Receive));
                connection.ReceiveCancelled = true;
            }
        }
        else if (result == 0)
        {
            connection.ReadClosed = true; // end of stream: send what is queued, then close
            FinishIfFlushed(loop, connection);
        }
        else if (result == -Interop.Libc.ENOBUFS)
        {
            // The pool is empty: the data waits in the socket. Arm again once a buffer is back.
            if (loop.Buffers!.Free == 0 && !connection.WaitingForBuffers)
            {
                connection.WaitingForBuffers = true;
                loop.WaitingForBuffers.Enqueue(connection);
                return;
            }
        }
        else if (result == -Interop.Libc.ECANCELED)
        {
            ContinueDrain(loop, connection); // stop's cancel (a backpressure cancel is armed again below)
        }
        else
        {
            Fail(loop, connection, "recv", -result);
            return;
        }

        PostReceive(loop, connection); // a multishot that ended is armed again, if nothing above forbids it
    }

    /// <summary>Sends the oldest held buffer from where its echo is not yet sent.</summary>
    private void PostSend(UringLoop loop, UringConnection connection)
    {
        if (connection.OwnsBuffers)
        {
            PostSendOwn(loop, connection);
            return;
        }

        if (connection.SendPending || connection.Closing || connection.Head < 0)
        {
            return;
        }

        int head = connection.Head;
        io_uring_sqe* sqe = Prepare(loop, IORING_OP_SEND, connection.Fd, UserData(connection.Id, UringOp.Send));
        sqe->addr = (ulong)(loop.Buffers!.Address(head) + connection.HeadOffset);
        sqe->len = (uint)(loop.Buffers.Length[head] - connection.HeadOffset);
        sqe->op_flags = (uint)Interop.Libc.MSG_NOSIGNAL; // msg_flags: a reset peer gives EPIPE, not SIGPIPE
        connection.SendPending = true;
        loop.Count(EchoCounter.SendCalls);
    }

    private void OnSent(UringLoop loop, UringConnection connection, int result)
    {
        if (result > 0)
        {
            // Counted even when the connection is ending: the kernel took these bytes, so they are echoed.
            Sent(loop, connection, result);
            connection.BytesOut += result;
            connection.Touch();
            loop.Count(EchoCounter.BytesOut, result);
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
        PostReceive(loop, connection); // there is room again: resume receiving if backpressure stopped it
        FinishIfFlushed(loop, connection);
        ContinueDrain(loop, connection);
    }

    /// <summary>A client that half-closed has every echo: shut down our sending side, then close.</summary>
    private void FinishIfFlushed(UringLoop loop, UringConnection connection)
    {
        if (!connection.ReadClosed || connection.SendPending || !connection.NothingQueued || connection.Closing)
        {
            return;
        }

        connection.Closing = true;
        connection.Reason = CloseReason.ClientClosed;
        PostShutdown(loop, connection);
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
