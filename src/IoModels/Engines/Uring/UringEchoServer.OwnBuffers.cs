using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>
/// The receive path for kernels without multishot receive or provided-buffer rings (before 6.0): each
/// connection keeps one receive posted into its own buffer, so every idle connection holds that buffer,
/// and each echo is copied through the connection's OutputBuffer to a send buffer of its own.
/// </summary>
public sealed unsafe partial class UringEchoServer
{
    // ---- Own buffers (older kernels) ----

    private void PostReceiveOwn(UringLoop loop, UringConnection connection)
    {
        if (connection.ReceivePending || connection.PeerClosed || connection.Closing || loop.Draining)
        {
            return; // stopping: nothing new is read for echoing
        }

        int length = Math.Min(connection.BufferSize, connection.Output!.FreeSpace);
        if (length == 0)
        {
            return; // backpressure: the OutputBuffer is full; the next completed send frees space and posts again
        }

        io_uring_sqe* sqe = Prepare(loop, IORING_OP_RECV, connection.Fd, UserData(connection.Id, UringOp.Receive));
        sqe->addr = (ulong)connection.ReceiveBuffer;
        sqe->len = (uint)length;
        connection.ReceivePending = true;
        loop.Count(EchoCounter.ReceiveCalls);
    }

    private void OnReceivedOwn(UringLoop loop, UringConnection connection, int result)
    {
        if (result > 0)
        {
            // The kernel already copied the bytes here: uppercase them and queue the echo. They fit:
            // the receive asked for no more than the queue's free space, and only sends changed it since.
            var received = new Span<byte>(connection.ReceiveBuffer, result);
            AsciiUpper.ToUpperInPlace(received);
            connection.Output!.Append(received);
            connection.Received(result);
            connection.Touch();
            loop.Count(EchoCounter.BytesIn, result);
        }

        if (connection.Closing)
        {
            SubmitCloseWhenIdle(loop, connection); // cancelled, or raced the cancel: what it read counts as unechoed
            return;
        }

        if (result > 0)
        {
            PostSendOwn(loop, connection);
            PostReceiveOwn(loop, connection);
        }
        else if (result == 0)
        {
            connection.PeerClosed = true; // end of stream: send what is queued, then close
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

    private void PostSendOwn(UringLoop loop, UringConnection connection)
    {
        if (connection.SendPending || connection.Closing)
        {
            return;
        }

        if (connection.SendOffset == connection.SendStaged)
        {
            if (connection.Output!.IsEmpty)
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
        loop.Count(EchoCounter.SendCalls);
    }

    private static void SentOwn(UringConnection connection, int count)
    {
        connection.Output!.Consume(count);
        connection.SendOffset += count;
        if (connection.SendOffset == connection.SendStaged)
        {
            connection.SendOffset = connection.SendStaged = 0;
        }
    }
}
