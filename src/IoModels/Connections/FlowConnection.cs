using System.Net;
using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// A connection served by a flow of its own (blocking: a thread; async: an awaited method), with
/// the echo in hand rather than queued, while two others act on it from outside: the idle sweep
/// (a timer) and stop. So its clock and its phase are changed by compare-and-swap.
/// </summary>
/// <remarks>
/// Graceful stop: exactly one of the owner and the stopper shuts the sending side down (FIN), and
/// only while the owner holds no unsent echo. The owner marks each echo's start and end
/// (<see cref="TryBeginEcho"/>, <see cref="EndEcho"/>); the stopper may take a connection that is
/// reading (<see cref="TryShut"/>), and the owner takes the ones that were echoing when it sees Stopping.
/// </remarks>
public sealed class FlowConnection(long id, EndPoint? remote, Socket socket) : Connection(id, remote)
{
    /// <summary><see cref="Connection.LastActive"/> once an idle sweep has closed the connection.</summary>
    private const long ClosedForIdle = long.MinValue;

    private const int Reading = 0;
    private const int Echoing = 1;
    private const int Shut = 2;

    private int _phase; // Reading, Echoing or Shut

    public Socket Socket { get; } = socket;

    /// <summary>True once <see cref="TryCloseForIdle"/> won: the close is logged as an idle timeout.</summary>
    public bool IsClosedForIdle => LastActive == ClosedForIdle;

    /// <summary>Set with <see cref="TryCloseForIdle"/> when echoes were pending: the close is a reset (<see cref="CloseReason.IdleStalled"/>).</summary>
    public bool StalledAtIdle { get; set; }

    /// <summary>Receiving, echoing, or shut for stop: the phase says it.</summary>
    public override ConnectionActivity Activity => Volatile.Read(ref _phase) switch
    {
        Echoing => ConnectionActivity.Sending,
        Shut => ConnectionActivity.Draining,
        _ => ConnectionActivity.WaitingForData,
    };

    /// <summary>Records traffic now, unless an idle sweep already closed the connection.</summary>
    public void Touch()
    {
        long seen = LastActive;
        if (seen != ClosedForIdle)
        {
            Interlocked.CompareExchange(ref LastActiveSlot, Environment.TickCount64, seen);
        }
    }

    /// <summary>Marks the connection closed for idleness if it has been silent since <paramref name="seen"/>; true if this call marked it.</summary>
    public bool TryCloseForIdle(long seen) =>
        seen != ClosedForIdle && Interlocked.CompareExchange(ref LastActiveSlot, ClosedForIdle, seen) == seen;

    /// <summary>Owner: a receive returned data. False if the stopper shut the connection first: that input arrived after stop began and is discarded.</summary>
    public bool TryBeginEcho() => Interlocked.CompareExchange(ref _phase, Echoing, Reading) == Reading;

    /// <summary>Owner: the echo is sent; back to reading.</summary>
    public void EndEcho() => Volatile.Write(ref _phase, Reading);

    /// <summary>Owner or stopper: claims the shutdown of a connection with no echo in hand. True for the one caller that must now shut the sending side down.</summary>
    public bool TryShut() => Interlocked.CompareExchange(ref _phase, Shut, Reading) == Reading;

    /// <summary>
    /// Owner, at the top of each turn of its loop: while <paramref name="stopping"/> with no echo in hand,
    /// claims the shutdown and sends FIN (the stopper may have listed this connection too late to do
    /// it). True once the connection is shut: from then on its input is only read to be discarded.
    /// </summary>
    /// <exception cref="SocketException">The shutdown found the peer gone.</exception>
    public bool ShutForStop(bool stopping)
    {
        if (stopping && TryShut())
        {
            Socket.Shutdown(SocketShutdown.Send);
        }

        return IsShut;
    }

    /// <summary>The sending side is shut down (or being shut down) for stop: input is now only discarded.</summary>
    public bool IsShut => Volatile.Read(ref _phase) == Shut;
}
