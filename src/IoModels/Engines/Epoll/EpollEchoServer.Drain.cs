using System.Runtime.InteropServices;
using static IoModels.Interop.Libc;

namespace IoModels.Epoll;

public sealed unsafe partial class EpollEchoServer
{
    /// <summary>
    /// Reads of discarded input per event while draining, level-triggered: the socket is reported again
    /// if more is waiting, so a client that keeps sending cannot hold the loop. Edge-triggered reads
    /// until EAGAIN, because no second notice would come.
    /// </summary>
    private const int DiscardReadsPerEvent = 4;

    /// <summary>
    /// This loop's part of a graceful stop, begun once, when a wake-up finds <see cref="EchoServerBase.Stopping"/>
    /// set: no more clients, nothing more read for echoing; each connection sends what it has queued,
    /// then is shut down (FIN) and its input discarded until the client closes.
    /// </summary>
    private void BeginDrain(EventLoop loop)
    {
        loop.Draining = true;
        loop.CloseListener();
        EpollConnection?[] table = loop.Table;
        for (int fd = 0; fd < table.Length; fd++)
        {
            if (table[fd] is { } connection)
            {
                DrainStep(loop, connection);
            }
        }
    }

    /// <summary>A ready connection while draining: send what is queued, then the drain step.</summary>
    private void ServeDraining(EventLoop loop, EpollConnection connection, Readiness events)
    {
        if ((events & Readiness.Write) != 0 && !connection.Output.IsEmpty && !Flush(loop, connection))
        {
            return; // closed
        }

        DrainStep(loop, connection);
    }

    /// <summary>
    /// Once every echo is out: shut our sending side down (FIN), then read and discard until the
    /// client closes (close(2) with unread input would send a reset, not a FIN). Until then, only
    /// writability is watched.
    /// </summary>
    private void DrainStep(EventLoop loop, EpollConnection connection)
    {
        if (!connection.Output.IsEmpty)
        {
            UpdateInterest(loop, connection); // writable only: no new reads
            return;
        }

        if (connection.PeerClosed)
        {
            Close(loop, connection, CloseReason.ClientClosed); // the client had finished anyway
            return;
        }

        if (!connection.SendShut)
        {
            if (Shutdown(connection.Fd, SHUT_WR) != 0)
            {
                Close(loop, connection, CloseReasonFor(ToSocketError(Marshal.GetLastPInvokeError()), "shutdown"));
                return;
            }

            connection.SendShut = true;
        }

        for (int reads = 0; _edgeTriggered || reads < DiscardReadsPerEvent; reads++)
        {
            nint received = Recv(connection.Fd, loop.Scratch, (nuint)loop.BufferSize, 0);
            loop.Counters.Increment(EchoCounter.ReceiveCalls);
            if (received > 0)
            {
                loop.Counters.Add(EchoCounter.BytesDiscarded, received);
                continue;
            }

            if (received == 0)
            {
                Close(loop, connection, CloseReason.Drained); // the client saw our FIN and closed
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                loop.Counters.Increment(EchoCounter.WouldBlock);
                break;
            }

            if (errno != EINTR)
            {
                Close(loop, connection, CloseReasonFor(ToSocketError(errno), "recv"));
                return;
            }
        }

        UpdateInterest(loop, connection);
    }
}
