using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// Graceful stop, the same in every engine (Kestrel's shutdown is the model): stop accepting, stop
/// reading, send what has been read, then close with FIN; reset only what is still unsent when the
/// drain deadline passes. A FIN needs one more step than a shutdown: close(2) on a socket with unread
/// input sends a reset, so once our side is shut down the input is read and thrown away until the
/// client closes its side too.
/// </summary>
public abstract partial class EchoServerBase
{
    /// <summary>Bytes read and thrown away in one drain step at most, so one client that keeps sending cannot hold the loop.</summary>
    private const int MaxDiscardPerStep = 4 * DiscardBufferSize;

    private const int DiscardBufferSize = 4096;

    [ThreadStatic]
    private static byte[]? t_discardBuffer;

    /// <summary>Where discarded input goes: one small buffer per thread, never read.</summary>
    protected static byte[] DiscardBuffer => t_discardBuffer ??= new byte[DiscardBufferSize];

    /// <summary>
    /// One drain step for a non-blocking <see cref="PolledConnection"/> while <see cref="Stopping"/>, in
    /// place of reading it: nothing new is read for echoing. Once its echoes are out (the engine's own
    /// send step sends them), our sending side is shut down (FIN) and input is discarded until the
    /// client closes, which closes the connection as drained. Returns true when it stopped at its
    /// per-step share with input possibly still waiting (an engine that waits for readiness edges,
    /// like signal's, must come back without a new notification).
    /// </summary>
    protected bool DrainStep(PolledConnection connection, LocalCounters counters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(counters);
        if (connection.Closed || !connection.Output.IsEmpty)
        {
            return false; // echoes still going out: the send step comes first
        }

        if (connection.PeerClosed)
        {
            Close(connection, CloseReason.ClientClosed); // the client had finished anyway: FIN, close
            return false;
        }

        if (!connection.SendShut)
        {
            try
            {
                connection.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException exception) when (SocketErrors.IsConnectionLost(exception))
            {
                Close(connection, CloseReason.Reset);
                return false;
            }

            connection.SendShut = true;
            connection.Output.ReleaseIfEmpty();
        }

        for (int discarded = 0; discarded < MaxDiscardPerStep;)
        {
            counters.Increment(EchoCounter.ReceiveCalls);
            int received = connection.Socket.Receive(DiscardBuffer, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                counters.Increment(EchoCounter.WouldBlock);
                return false;
            }

            if (error != SocketError.Success)
            {
                Close(connection, CloseReasonFor(error, "recv"));
                return false;
            }

            if (received == 0)
            {
                Close(connection, CloseReason.Drained); // the client saw our FIN and closed: an orderly end on both sides
                return false;
            }

            counters.Add(EchoCounter.BytesDiscarded, received);
            discarded += received;
        }

        return true;
    }
}
