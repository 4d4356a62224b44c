using System.Buffers;
using System.Net.Sockets;

namespace IoModels.Async;

/// <summary>
/// How an async connection ends, apart from the client closing: the error classification, the idle
/// rule's timer sweep, and stop (drain, then cut at the deadline).
/// </summary>
public sealed partial class AsyncEchoServer
{
    /// <summary>
    /// A receive or send failed: the shared rule (<see cref="EchoServerBase.CloseReasonFor"/>), unless the
    /// idle sweep closed the socket under the operation, which is no fault (the close is then logged as idle).
    /// </summary>
    private CloseReason Classify(FlowConnection connection, SocketError error) =>
        connection.IsClosedForIdle ? CloseReason.IdleTimeout : CloseReasonFor(error, "socket");

    /// <summary>
    /// Stopping, our side shut down: read and throw away until the client closes (close(2) with unread
    /// input would send a reset, not the FIN we just sent). The drain deadline ends it by closing the socket.
    /// </summary>
    private async Task<CloseReason> DiscardAsync(FlowConnection connection, SocketAwaitableEventArgs operation)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096); // only while stopping: no idle connection holds one
        try
        {
            while (true)
            {
                Statistics.Increment(EchoCounter.ReceiveCalls);
                SocketResult received = await operation.ReceiveAsync(connection.Socket, buffer);
                if (!received.Succeeded)
                {
                    return Classify(connection, received.Error);
                }

                if (received.BytesTransferred == 0)
                {
                    return CloseReason.Drained;
                }

                Statistics.Add(EchoCounter.BytesDiscarded, received.BytesTransferred);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The idle rule over every connection, once a sweep period, from a timer. An idle connection is
    /// marked (so its close is logged as such), then: nothing pending, shut down both ways, which sends
    /// FIN and completes the pending zero-byte receive with end of stream, so its own flow closes it;
    /// echoes pending, a reset, which fails the pending send.
    /// </summary>
    private void CloseIdle()
    {
        if (Stopping || Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return; // draining (the drain deadline applies, not the idle timeout), or the previous sweep is still running
        }

        try
        {
            long now = Environment.TickCount64;
            foreach (FlowConnection connection in Connections.Entries.OfType<FlowConnection>())
            {
                long lastActive = connection.LastActive;
                int sample = connection.UnsentSample;
                IdleVerdict verdict = Idle.Check(lastActive, now, connection.Socket, connection.Activity == ConnectionActivity.Sending, ref sample);
                connection.UnsentSample = sample;
                if (verdict == IdleVerdict.Moved)
                {
                    connection.Touch();
                }
                else if (verdict is IdleVerdict.Silent or IdleVerdict.Stalled && connection.TryCloseForIdle(lastActive))
                {
                    connection.StalledAtIdle = verdict == IdleVerdict.Stalled;
                    if (connection.StalledAtIdle)
                    {
                        SocketSetup.Abort(connection.Socket);
                    }
                    else
                    {
                        SocketSetup.ShutdownBothQuietly(connection.Socket);
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    protected override void BeginDrain()
    {
        // A connection waiting in its zero-byte receive holds no echo: FIN it from here. One that is echoing does it itself.
        foreach (FlowConnection connection in Connections.Entries.OfType<FlowConnection>())
        {
            if (connection.TryShut())
            {
                SocketSetup.ShutdownSendQuietly(connection.Socket);
            }
        }
    }

    protected override async Task StopCoreAsync()
    {
        if (_idleTimer is not null)
        {
            await _idleTimer.DisposeAsync();
        }

        // The drain deadline: a reset for what is left; the pending operation then reports the close.
        foreach (FlowConnection connection in Connections.Entries.OfType<FlowConnection>())
        {
            SocketSetup.Abort(connection.Socket);
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        // Every connection's ServeAsync ends once its pending operation reports the close; the last
        // one sets _drained (Stopping is already true). If none is left, nobody else will set it.
        if (Volatile.Read(ref _serving) == 0)
        {
            _drained.TrySetResult();
        }

        await _drained.Task;
    }
}
