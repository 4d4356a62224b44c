using static IoModels.Interop.Libc;

namespace IoModels.Epoll;

/// <summary>How connections end apart from the drain: close (FIN or reset by reason), the idle rule, and the last cut when the loop ends.</summary>
public sealed unsafe partial class EpollEchoServer
{
    /// <summary>
    /// Closes the descriptor (which also removes it from the kernel queue) and counts the connection
    /// out: after the client's end of stream our side is shut down first (FIN after the last echo);
    /// cut at the drain deadline or stalled at idle, with a reset.
    /// </summary>
    private void Close(EventLoop loop, EpollConnection connection, CloseReason reason)
    {
        if (reason == CloseReason.ClientClosed && !connection.SendShut)
        {
            _ = Shutdown(connection.Fd, SHUT_WR); // a failure means the peer is gone already
        }

        _ = reason is CloseReason.ServerStopping or CloseReason.IdleStalled ? SocketSetup.AbortDescriptor(connection.Fd) : Interop.Libc.Close(connection.Fd);
        if (loop.Find(connection.Fd) == connection)
        {
            loop.Remove(connection);
        }

        long unechoed = connection.Output.Count;
        connection.Output.Dispose();
        Closed(connection, reason, unechoed);
    }

    /// <summary>The idle rule (<see cref="IdleRule"/>) over this loop's connections, once a sweep period.</summary>
    private void CloseIdle(EventLoop loop)
    {
        EpollConnection?[] table = loop.Table;
        for (int fd = 0; fd < table.Length; fd++)
        {
            if (table[fd] is not { } connection)
            {
                continue;
            }

            int sample = connection.UnsentSample;
            IdleVerdict verdict = Idle.Check(connection.LastActive, loop.Now, connection.Fd, !connection.Output.IsEmpty, ref sample);
            connection.UnsentSample = sample;
            if (verdict == IdleVerdict.Moved)
            {
                connection.LastActive = loop.Now;
            }
            else if (verdict is IdleVerdict.Silent or IdleVerdict.Stalled)
            {
                Close(loop, connection, IdleRule.CloseReasonOf(verdict));
            }
        }

        loop.NextIdleSweep = loop.Now + Idle.SweepMilliseconds;
    }

    /// <summary>The loop is ending: reset what it still owns or was handed, and free its descriptors.</summary>
    private void CloseEverything(EventLoop loop)
    {
        foreach (EpollConnection connection in loop.CloseToHandovers())
        {
            Close(loop, connection, CloseReason.ServerStopping);
        }

        EpollConnection?[] table = loop.Table;
        for (int fd = 0; fd < table.Length; fd++)
        {
            if (table[fd] is { } connection)
            {
                Close(loop, connection, CloseReason.ServerStopping);
            }
        }

        loop.Dispose();
    }
}
