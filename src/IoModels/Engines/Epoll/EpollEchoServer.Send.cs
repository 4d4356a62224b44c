using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static IoModels.Interop.Libc;

namespace IoModels.Epoll;

/// <summary>
/// The write half of the echo (point 3 of the lesson): send at once from the scratch buffer, queue
/// only what the kernel did not take, and flush the queue when EPOLLOUT says there is room.
/// </summary>
public sealed unsafe partial class EpollEchoServer
{
    /// <summary>Sends <paramref name="count"/> uppercased bytes from the scratch buffer; queues what the kernel did not take.</summary>
    private bool Echo(EventLoop loop, EpollConnection connection, int count)
    {
        int sent = 0;
        if (connection.Output.IsEmpty) // otherwise older bytes are queued, and these must go after them
        {
            sent = SendSome(loop, connection, loop.Scratch, count);
            if (sent == SendClosed)
            {
                return false;
            }

            if (sent == SendWouldBlock)
            {
                sent = 0; // the kernel took nothing: all of it is queued below
            }
        }

        if (sent < count)
        {
            // room was at most the queue's free space, so the rest always fits
            connection.Output.Append(new ReadOnlySpan<byte>(loop.Scratch + sent, count - sent));
        }

        return true;
    }

    /// <summary>Sends queued bytes until the queue is empty or the kernel's buffer is full. Returns false if the connection was closed.</summary>
    private bool Flush(EventLoop loop, EpollConnection connection)
    {
        OutputBuffer output = connection.Output;
        while (!output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = output.GetReadSpan();
            int sent;
            fixed (byte* data = pending)
            {
                sent = SendSome(loop, connection, data, pending.Length);
            }

            if (sent == SendWouldBlock)
            {
                break; // the rest stays queued; EPOLLOUT says when there is room again
            }

            if (sent == SendClosed)
            {
                return false;
            }

            output.Consume(sent);
            connection.LastActive = loop.Now;
        }

        if (output.IsEmpty && connection.PeerClosed)
        {
            Close(loop, connection, CloseReason.ClientClosed); // every echo is out: now our side ends too
            return false;
        }

        // Room again: read what backpressure left waiting (edge-triggered, nobody else would).
        return !connection.ReadPending || connection.PeerClosed || loop.Draining || Receive(loop, connection);
    }

    /// <summary>
    /// One non-blocking send, the step <see cref="Echo"/> and <see cref="Flush"/> share. Returns the
    /// bytes the kernel took (possibly fewer than <paramref name="length"/>: the caller keeps the rest),
    /// <see cref="SendWouldBlock"/> if its send buffer is full (EAGAIN, counted as would-block), or
    /// <see cref="SendClosed"/> after another error has closed the connection. EINTR (a signal arrived
    /// before anything was sent) is simply tried again. Inlined into both callers: they run for every
    /// echoed message, and sharing the step must not add a call to the measured path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SendSome(EventLoop loop, EpollConnection connection, byte* data, int length)
    {
        while (true)
        {
            nint result = Send(connection.Fd, data, (nuint)length, MSG_NOSIGNAL); // MSG_NOSIGNAL (Linux): a reset peer is EPIPE, not SIGPIPE
            loop.Counters.Increment(EchoCounter.SendCalls);
            if (result >= 0)
            {
                int sent = (int)result; // at most length, so it fits
                loop.Counters.Add(EchoCounter.BytesOut, sent);
                connection.Sent(sent);
                return sent;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                loop.Counters.Increment(EchoCounter.WouldBlock);
                return SendWouldBlock;
            }

            if (errno != EINTR)
            {
                Close(loop, connection, CloseReasonFor(ToSocketError(errno), "send"));
                return SendClosed;
            }
        }
    }
}
