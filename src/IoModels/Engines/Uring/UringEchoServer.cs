using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>
/// The completion model on Linux: every accept, receive, send and close is a request queued to the
/// kernel through io_uring, and the loop learns about each one only when it is finished.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. Readiness (select, epoll) asks "which sockets could I read now?", then reads. Completion turns
///    that around: we ask "receive for this connection", and the kernel answers only when it is
///    "done, n bytes, in buffer b". That passes the POSIX test for asynchronous IO (UNP 6.2): the
///    request does not block us, no second call is needed, the data is already in our memory. The
///    copy runs in the kernel, on this loop's thread, inside our io_uring_enter (point 10).
/// 2. Requests and answers travel through two rings shared with the kernel (Ring.cs): we write
///    submission entries (SQEs); one io_uring_enter both submits the batch and sleeps until
///    completions (CQEs) arrive. Many operations, one system call.
/// 3. Contrast with <c>async</c>: .NET's async sockets on Linux are readiness underneath (epoll, then
///    a non-blocking recv on a pool thread). Here no thread of ours calls recv or send: the kernel does.
/// 4. Provided buffers (ProvidedBuffers.cs): each loop lends the kernel one pool of buffers through a
///    third shared ring. A receive names the pool, not a buffer; the kernel takes one only when data
///    is there, and the completion says which (its id in cqe.flags). So an idle connection holds no
///    buffer. We uppercase in place, send from that same buffer (no copy), and give it back once the
///    send completed. The ring hands buffers out first in, first out, so the loop lends only a window
///    of the pool (64 buffers at first), the most recently used first, topped up before each wait: a
///    receive then lands in memory the cache still holds. The pool is native memory: the kernel
///    writes into it when it chooses, so it never moves, and it is freed only after the ring is closed.
/// 5. One request, many completions: a multishot receive (Linux 6.0+) stays armed and completes once
///    per chunk of data (IORING_CQE_F_MORE: more will come), a multishot accept (5.19+) once per
///    client. One that ends (no F_MORE: end of stream, error, cancel, its byte limit, or ENOBUFS when
///    the ring ran dry) is armed again. After ENOBUFS: at once if any buffer is not held (and the
///    window doubles if the last refill had left spares out), else once a buffer comes back.
/// 6. Each completion carries the user_data we gave its request: the connection id and the step
///    (receive, send, close, ...), so the loop knows what finished without any lookup by descriptor.
/// 7. Backpressure: each multishot may receive only what keeps the connection's unsent echoes within
///    its output limit (a byte limit in the SQE), and one that holds its limit in buffers is
///    cancelled; its sends arm it again. So one slow reader cannot empty the pool for everyone, and
///    one that never reads is closed by the idle rule. A short send is sent again from where it ended.
/// 8. Ending a connection is also asynchronous: cancel what is in flight, wait for those
///    completions, then submit the close. Half-close: after the last echo, shutdown(SHUT_WR), close.
/// 9. --loops N: N rings and N threads, each with its own SO_REUSEPORT listener. Stop writes each
///    loop's eventfd, whose pending read completes and wakes the loop to drain (point 11).
/// 10. Where the kernel finishes a request matters for speed. By default, data arriving for a pending
///    receive interrupts the loop's thread to run it at once, while the sender's core still holds
///    the socket's lock, so the receive spins on that lock (docs/engineering-notes.md). Rings are
///    therefore made with IORING_SETUP_DEFER_TASKRUN (Linux 6.1+, SINGLE_ISSUER, enabled from the
///    loop's thread): that work runs in a batch only when the loop waits in io_uring_enter.
/// 11. Stop drains: the first wake cancels the accept and every receive (data that completes before
///    its cancel is echoed). A connection with nothing in flight or queued gets shutdown (FIN), then
///    receives into a scratch buffer that nobody reads, until the client closes. At the drain deadline
///    a second wake cuts the rest: cancel, wait for the completions, close(2) with SO_LINGER 0.
/// 12. Kernels without these (no buffer ring, multishot receive or its byte limit) keep one receive
///    and its own buffer posted per connection, copying each echo to a send buffer
///    (UringEchoServer.OwnBuffers.cs): there every idle connection holds its receive buffer.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed unsafe partial class UringEchoServer : EchoServerBase
{
    public UringEchoServer(EchoServerOptions options)
        : base("uring", options)
    {
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
                FollowStop(loop); // stop began: drain; the drain deadline passed: cut
                // One system call: submit everything prepared since the last one, then sleep until a
                // completion arrives (or the idle sweep is due). What this pass counted is published first.
                loop.FlushCounts(Statistics);
                loop.Buffers?.Refill(); // buffers whose echoes were sent this pass are lent again
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
                SweepIfDue(loop, sweepPeriod); // the idle rule, once a sweep period
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
            if ((cqe.flags & IORING_CQE_F_MORE) == 0)
            {
                loop.InFlight--; // this request is finished (a multishot with F_MORE is still armed)
            }

            var op = (UringOp)(cqe.user_data & 0xFF);
            if (op < UringOp.Receive)
            {
                OnLoopCompletion(loop, op, cqe); // the loop's own requests: accept, its retry timer, the wake, cancels
            }
            else
            {
                OnConnectionCompletion(loop, loop.Connections[(long)(cqe.user_data >> 8)], op, cqe);
            }
        }

        loop.Count(EchoCounter.Completions, reaped);
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
            default:
                OnEndingCompletion(loop, connection, op, cqe.res); // shutdown, discard, close
                break;
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

        if (connection.ReceivePending || connection.PeerClosed || connection.Closing || loop.Draining)
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
                connection.Received(result);
                connection.Touch();
                loop.Count(EchoCounter.BytesIn, result);
            }
            else
            {
                loop.Buffers!.Take(id, 0); // the kernel took it and put nothing in it: count it held, then give it back
                Recycle(loop, id);
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
            StopReceivingIfHoldingLimit(loop, connection);
        }
        else if (result == 0)
        {
            connection.PeerClosed = true; // end of stream: send what is queued, then close
            FinishIfFlushed(loop, connection);
        }
        else if (result == -Interop.Libc.ENOBUFS)
        {
            if (WaitForBuffers(loop, connection))
            {
                return; // the pool is empty: the data waits in the socket until a buffer comes back
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
            connection.Sent(result);
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
}
