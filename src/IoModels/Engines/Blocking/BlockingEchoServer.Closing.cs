using System.Net.Sockets;

namespace IoModels.Blocking;

/// <summary>
/// How a blocking connection ends, apart from the client closing: the idle rule asked after a blocked
/// call times out, the error classification, and stop (drain, then cut at the deadline).
/// </summary>
public sealed partial class BlockingEchoServer
{
    /// <summary>
    /// Stopping, our side shut down: read and throw away until the client closes (close(2) with unread
    /// input would send a reset, not the FIN we just sent). The drain deadline ends it by closing the socket.
    /// </summary>
    private CloseReason Discard(Socket client, byte[] buffer)
    {
        while (true)
        {
            Statistics.Increment(EchoCounter.ReceiveCalls);
            int received = client.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
            if (error is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue; // a timed-out receive (as in Serve and SendAll): the idle timeout does not apply while draining, the drain deadline does
            }

            if (error != SocketError.Success)
            {
                return Classify(error);
            }

            if (received == 0)
            {
                return CloseReason.Drained;
            }

            Statistics.Add(EchoCounter.BytesDiscarded, received);
        }
    }

    /// <summary>
    /// A blocked call timed out: the idle rule's close reason, or null if the connection is not idle.
    /// The clock and the send-queue sample are the connection's own, so the dashboard shows the same idle time.
    /// </summary>
    private CloseReason? IdleLook(FlowConnection connection, bool echoPending)
    {
        int sample = connection.UnsentSample;
        IdleVerdict verdict = Idle.Check(connection.LastActive, Environment.TickCount64, connection.Socket, echoPending, ref sample);
        connection.UnsentSample = sample;
        if (verdict == IdleVerdict.Moved)
        {
            connection.Touch();
        }

        return verdict is IdleVerdict.Silent or IdleVerdict.Stalled ? IdleRule.CloseReasonOf(verdict) : null;
    }

    /// <summary>
    /// A receive or send failed: a timeout with the idle rule on is the stalled client SendAll found
    /// (the only timeout that reaches here); anything else is the shared rule, <see cref="EchoServerBase.CloseReasonFor"/>.
    /// </summary>
    private CloseReason Classify(SocketError error) =>
        error is SocketError.TimedOut && Idle.Enabled && !Aborting ? CloseReason.IdleStalled : CloseReasonFor(error, "socket");

    protected override void BeginDrain()
    {
        // A thread blocked in Receive holds no echo: FIN it from here. One that is echoing does it itself.
        foreach (FlowConnection connection in Connections.Entries.OfType<FlowConnection>())
        {
            if (connection.TryShut())
            {
                SocketSetup.ShutdownSendQuietly(connection.Socket);
            }
        }
    }

    protected override Task StopCoreAsync()
    {
        // The drain deadline: a reset for what is left. Closing a socket wakes the thread blocked on it with an aborted call.
        foreach (FlowConnection connection in Connections.Entries.OfType<FlowConnection>())
        {
            SocketSetup.Abort(connection.Socket);
        }

        return Task.CompletedTask;
    }
}
