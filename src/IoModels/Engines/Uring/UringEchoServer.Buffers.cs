namespace IoModels.Uring;

/// <summary>The loop's pool of provided buffers: choosing the path, and each connection's chain of held buffers.</summary>
public sealed unsafe partial class UringEchoServer
{
    // ---- Provided buffers ----

    /// <summary>False keeps the older path (a buffer per connection) even where the kernel has the pool: for tests of that path.</summary>
    internal bool ProvidedBuffersAllowed { get; init; } = true;

    /// <summary>
    /// Registers the loop's buffer pool where the kernel has multishot receive and buffer rings (probed
    /// once, <see cref="UringSupport.ProvidedBuffers"/>). From the loop's thread: a single-issuer ring
    /// takes registrations only from the thread that enabled it.
    /// </summary>
    private void UseProvidedBuffers(UringLoop loop)
    {
        if (ProvidedBuffersAllowed && UringSupport.ProvidedBuffers)
        {
            loop.Buffers = ProvidedBuffers.TryRegister(loop.Ring.Fd, Options.BufferSize, out int errno);
            if (loop.Buffers is null)
            {
                EchoLog.Note(Log, Model, "the kernel refused a provided-buffer ring; each connection receives into its own buffer");
                ReportErrno(errno);
            }
        }

        if (loop.Index == 0)
        {
            EchoLog.Note(Log, Model, loop.Buffers is null
                ? "receive path: one receive and its own buffer posted per connection"
                : "receive path: one multishot receive per connection into the loop's provided buffers");
        }
    }

    /// <summary>Why registering failed: worth a line only when it is not simply an old or restricted kernel.</summary>
    private void ReportErrno(int errno)
    {
        if (errno != Interop.Libc.EINVAL && errno != Interop.Libc.EPERM)
        {
            ReportFault(new PlatformException("io_uring_register(IORING_REGISTER_PBUF_RING)", errno));
        }
    }

    /// <summary>
    /// Backpressure in buffers: many small receives can hold more buffers than bytes. A client that holds
    /// its output limit's worth has its multishot receive cancelled; what completes before the cancel
    /// lands is still echoed, and its sends arm the receive again (<see cref="PostReceive"/>).
    /// </summary>
    private void StopReceivingIfHoldingLimit(UringLoop loop, UringConnection connection)
    {
        if (connection.ReceivePending && !connection.ReceiveCancelled &&
            (long)connection.HeldBuffers * loop.Buffers!.Size >= connection.OutputLimit)
        {
            Cancel(loop, UserData(connection.Id, UringOp.Receive));
            connection.ReceiveCancelled = true;
        }
    }

    /// <summary>
    /// The multishot ended with ENOBUFS: the ring ran dry. If every buffer is held, park the connection:
    /// the next buffer given back arms it again (true). Otherwise some are lent or spare (given back
    /// since, or left out of a window a burst outran, which then widens): the caller arms it now (false).
    /// </summary>
    private static bool WaitForBuffers(UringLoop loop, UringConnection connection)
    {
        loop.Count(EchoCounter.ReceivesOutOfBuffers);
        if (loop.Buffers!.Free > 0)
        {
            loop.Buffers.Widen(); // widens only if the last refill left spares out: then the window was too small
            return false;
        }

        if (!connection.WaitingForBuffers)
        {
            connection.WaitingForBuffers = true;
            loop.WaitingForBuffers.Enqueue(connection);
        }

        return true;
    }

    /// <summary>Buffer <paramref name="id"/> came back from a receive with <paramref name="length"/> bytes: queue it on the connection.</summary>
    private static void Hold(UringLoop loop, UringConnection connection, int id, int length)
    {
        ProvidedBuffers buffers = loop.Buffers!;
        buffers.Take(id, length);
        if (connection.Tail >= 0)
        {
            buffers.Next[connection.Tail] = id;
        }
        else
        {
            connection.Head = id;
            connection.HeadOffset = 0;
        }

        connection.Tail = id;
        connection.HeldBuffers++;
        connection.Queued += length;
        loop.Count(EchoCounter.BufferedBytes, length);
    }

    /// <summary>The kernel sent <paramref name="count"/> bytes from the front buffer: a buffer wholly sent goes back to the pool.</summary>
    private void Sent(UringLoop loop, UringConnection connection, int count)
    {
        if (connection.OwnsBuffers)
        {
            SentOwn(connection, count);
            return;
        }

        connection.Queued -= count;
        connection.HeadOffset += count;
        loop.Count(EchoCounter.BufferedBytes, -count);
        int head = connection.Head;
        if (connection.HeadOffset == loop.Buffers!.Length[head])
        {
            PopHead(loop, connection);
        }
    }

    /// <summary>Gives back every buffer a closed connection held: its unsent echoes are dropped with it.</summary>
    private void ReleaseBuffers(UringLoop loop, UringConnection connection)
    {
        loop.Count(EchoCounter.BufferedBytes, -connection.Queued);
        connection.Queued = 0;
        while (connection.Head >= 0)
        {
            PopHead(loop, connection);
        }
    }

    private void PopHead(UringLoop loop, UringConnection connection)
    {
        int id = connection.Head;
        connection.Head = loop.Buffers!.Next[id];
        connection.HeadOffset = 0;
        connection.HeldBuffers--;
        if (connection.Head < 0)
        {
            connection.Tail = -1;
        }

        Recycle(loop, id);
    }

    /// <summary>
    /// Buffer <paramref name="id"/> is spare again (lent to the kernel at the next refill), and the first
    /// connection that found the pool empty and can still receive is armed again. One that cannot (it
    /// is ending, closed, or held back by its own output limit) is passed over, so a returned buffer is
    /// never left with nobody waiting to fill it.
    /// </summary>
    private void Recycle(UringLoop loop, int id)
    {
        loop.Buffers!.Recycle(id);
        while (loop.WaitingForBuffers.TryDequeue(out UringConnection? waiting))
        {
            waiting.WaitingForBuffers = false;
            PostReceive(loop, waiting); // does nothing if it is ending, held back, or armed again since
            if (waiting.ReceivePending)
            {
                break;
            }
        }
    }
}
