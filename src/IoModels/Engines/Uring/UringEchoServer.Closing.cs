using System.Net.Sockets;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>How connections end (closes wait until the kernel holds no request on them; the idle rule) and how the server stops (drain, then cut at the deadline).</summary>
public sealed unsafe partial class UringEchoServer
{
    // ---- Ending connections ----

    /// <summary>A completion of a step of ending: the shutdown (FIN), a receive that discards, the close.</summary>
    private void OnEndingCompletion(UringLoop loop, UringConnection connection, UringOp op, int result)
    {
        switch (op)
        {
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

    /// <summary>A client that half-closed has every echo: shut down our sending side, then close.</summary>
    private void FinishIfFlushed(UringLoop loop, UringConnection connection)
    {
        if (!connection.PeerClosed || connection.SendPending || !connection.NothingQueued || connection.Closing)
        {
            return;
        }

        connection.Closing = true;
        connection.Reason = CloseReason.ClientClosed;
        PostShutdown(loop, connection);
    }

    /// <summary>A request on the connection failed: the shared rule decides the close reason (and whether it was a fault).</summary>
    private void Fail(UringLoop loop, UringConnection connection, string call, int errno) =>
        BeginClose(loop, connection, CloseReasonFor(Interop.Libc.ToSocketError(errno), call));

    /// <summary>Stops new operations on the connection, cancels those in flight, and closes once they completed.</summary>
    private void BeginClose(UringLoop loop, UringConnection connection, CloseReason reason)
    {
        if (connection.Closing)
        {
            return;
        }

        connection.Closing = true;
        connection.Reason = reason;
        if (connection.ReceivePending)
        {
            Cancel(loop, UserData(connection.Id, connection.SendShut ? UringOp.Discard : UringOp.Receive));
        }

        if (connection.SendPending)
        {
            Cancel(loop, UserData(connection.Id, UringOp.Send));
        }

        SubmitCloseWhenIdle(loop, connection);
    }

    private void SubmitCloseWhenIdle(UringLoop loop, UringConnection connection)
    {
        if (connection.ReceivePending || connection.SendPending || connection.ShutdownPending || connection.CloseSubmitted)
        {
            return; // the kernel may still use the buffers or the descriptor: wait for those completions
        }

        connection.CloseSubmitted = true;
        if (connection.Reason is CloseReason.ServerStopping or CloseReason.IdleStalled)
        {
            // The drain deadline passed, or the client stopped reading: a reset (SO_LINGER 0), not a FIN after echoes nobody will read.
            // A direct close(2) is safe here: the kernel holds no request on this descriptor any more.
            _ = SocketSetup.AbortDescriptor(connection.Fd);
            Finish(loop, connection);
            return;
        }

        Prepare(loop, IORING_OP_CLOSE, connection.Fd, UserData(connection.Id, UringOp.Close));
    }

    /// <summary>The descriptor is closed and nothing of the kernel's refers to the buffers: free them and count the connection out.</summary>
    private void Finish(UringLoop loop, UringConnection connection)
    {
        loop.Connections.Remove(connection.Id);
        long unechoed = connection.Unechoed;
        if (!connection.OwnsBuffers)
        {
            ReleaseBuffers(loop, connection); // nothing in the kernel sends from them any more
        }

        connection.Dispose();
        Closed(connection, connection.Reason, unechoed);
    }

    /// <summary>Runs the idle rule when a sweep period has passed since the last (never when it is off).</summary>
    private void SweepIfDue(UringLoop loop, TimeSpan? sweepPeriod)
    {
        if (sweepPeriod is { } period && Environment.TickCount64 >= loop.NextSweep)
        {
            loop.NextSweep = Environment.TickCount64 + (long)period.TotalMilliseconds;
            CloseIdle(loop);
        }
    }

    /// <summary>The idle rule (<see cref="IdleRule"/>) over this loop's connections, once a sweep period.</summary>
    private void CloseIdle(UringLoop loop)
    {
        if (loop.Draining)
        {
            return; // the drain deadline applies now, not the idle timeout
        }

        long now = Environment.TickCount64;
        foreach (UringConnection connection in loop.Connections.Values)
        {
            if (connection.Closing)
            {
                continue;
            }

            int sample = connection.UnsentSample;
            bool echoPending = connection.SendPending || !connection.NothingQueued;
            IdleVerdict verdict = Idle.Check(connection.LastActive, now, connection.Fd, echoPending, ref sample);
            connection.UnsentSample = sample;
            if (verdict == IdleVerdict.Moved)
            {
                connection.Touch();
            }
            else if (verdict is IdleVerdict.Silent or IdleVerdict.Stalled)
            {
                BeginClose(loop, connection, IdleRule.CloseReasonOf(verdict));
            }
        }
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

    // ---- Stopping ----

    /// <summary>Takes the server's stop steps into this loop, each once: drain when stop began, cut at the deadline.</summary>
    private void FollowStop(UringLoop loop)
    {
        if (Stopping && !loop.Draining)
        {
            Drain(loop);
        }

        if (Aborting && !loop.Aborting)
        {
            Abort(loop);
        }
    }

    /// <summary>
    /// Stop was seen: cancel the accept (and any back-off timer) and every receive posted for echoing.
    /// Each connection then drains on its own completions (<see cref="ContinueDrain"/>).
    /// </summary>
    private void Drain(UringLoop loop)
    {
        loop.Draining = true;
        Cancel(loop, UserData(0, UringOp.Accept));
        Cancel(loop, UserData(0, UringOp.AcceptRetry));
        foreach (UringConnection connection in loop.Connections.Values)
        {
            if (connection.ReceivePending && !connection.Closing)
            {
                Cancel(loop, UserData(connection.Id, UringOp.Receive)); // completes with data (echoed) or -ECANCELED
            }

            ContinueDrain(loop, connection);
        }
    }

    /// <summary>
    /// The next drain step of a connection once nothing of it is in flight and its queue is empty:
    /// close a client that had half-closed (it has every echo), shut our sending side down (FIN), or,
    /// after that, receive the next input to throw away; its end of stream closes the connection as drained.
    /// </summary>
    private void ContinueDrain(UringLoop loop, UringConnection connection)
    {
        if (!loop.Draining || connection.Closing || connection.ReceivePending || connection.SendPending ||
            connection.ShutdownPending || !connection.NothingQueued)
        {
            return; // not stopping, ending already, or waiting for a completion (the echoes first)
        }

        if (connection.PeerClosed)
        {
            FinishIfFlushed(loop, connection);
        }
        else if (!connection.SendShut)
        {
            PostShutdown(loop, connection);
        }
        else
        {
            // No receive for echoing is in flight any more, so the receive buffer (or, with provided buffers,
            // the loop's scratch buffer, which nobody reads) takes what is thrown away.
            io_uring_sqe* sqe = Prepare(loop, IORING_OP_RECV, connection.Fd, UserData(connection.Id, UringOp.Discard));
            sqe->addr = (ulong)(connection.OwnsBuffers ? connection.ReceiveBuffer : loop.Buffers!.Scratch);
            sqe->len = (uint)connection.BufferSize;
            connection.ReceivePending = true;
            loop.Count(EchoCounter.ReceiveCalls);
        }
    }

    private void OnDiscarded(UringLoop loop, UringConnection connection, int result)
    {
        if (result > 0)
        {
            connection.Touch(); // bytes moved: a client still sending while we drain is not idle
            loop.Count(EchoCounter.BytesDiscarded, result);
        }

        if (connection.Closing)
        {
            SubmitCloseWhenIdle(loop, connection); // cut at the deadline while discarding
        }
        else if (result == 0)
        {
            BeginClose(loop, connection, CloseReason.Drained); // the client saw our FIN and closed: an orderly end on both sides
        }
        else if (result < 0)
        {
            Fail(loop, connection, "recv", -result);
        }
        else
        {
            ContinueDrain(loop, connection); // the next discard
        }
    }

    /// <summary>The drain is over: stop waking, and cut every connection that is not ending already.</summary>
    private void Abort(UringLoop loop)
    {
        loop.Aborting = true;
        Cancel(loop, UserData(0, UringOp.Wake));
        foreach (UringConnection connection in loop.Connections.Values.ToArray()) // a cut with nothing in flight ends at once, removing it
        {
            BeginClose(loop, connection, CloseReason.ServerStopping);
        }
    }

    // The listener's close is no event a loop sees (each holds its own descriptor of it): wake them to drain.
    protected override void BeginDrain() => WakeLoops();

    protected override Task StopCoreAsync()
    {
        WakeLoops(); // the drain is over: each loop sees Aborting, cuts what is left and ends
        return Task.CompletedTask;
    }

    private void WakeLoops()
    {
        foreach (UringLoop loop in _loops)
        {
            loop.Wake(); // the loop's eventfd read completes and its wait returns
        }
    }

    /// <summary>
    /// The loop's last step. Normally every connection is closed and the kernel holds nothing of ours.
    /// After a fault (an exception escaped the loop) connections may remain: their descriptors are
    /// closed and counted out, and their buffers are deliberately leaked, because the kernel may not
    /// yet have finished cancelling operations that point into them.
    /// </summary>
    private void EndLoop(UringLoop loop)
    {
        loop.Dispose();
        foreach (UringConnection connection in loop.Connections.Values)
        {
            if (!connection.CloseSubmitted)
            {
                _ = Interop.Libc.Close(connection.Fd);
            }

            if (!connection.OwnsBuffers)
            {
                Statistics.Add(EchoCounter.BufferedBytes, -connection.Queued); // the buffers are leaked, not its bytes: the gauge comes down
            }

            Closed(connection, CloseReason.ServerStopping, connection.Unechoed);
        }

        loop.Connections.Clear();
    }
}
