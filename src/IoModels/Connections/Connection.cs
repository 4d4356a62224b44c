using System.Net;

namespace IoModels;

/// <summary>
/// One client connection as every engine keeps it: who it is, what it has moved and when it last
/// moved anything, and how far it has got towards its end. Each engine derives its own type to add
/// what its model needs (a <see cref="System.Net.Sockets.Socket"/>, a raw descriptor and its
/// registered interest, the io_uring requests in flight); this part serves the dashboard, the idle
/// rule, stop and the close log alike, under the same names in every engine.
/// </summary>
/// <remarks>
/// Written by the one thread or async flow that owns the connection; read from any thread by the
/// dashboard (<see cref="IConnectionListing"/>), which only shows what it reads.
/// </remarks>
public abstract class Connection
{
    private long _bytesIn;
    private long _bytesOut;
    private long _lastActive = Environment.TickCount64;

    protected Connection(long id, EndPoint? remote)
    {
        Id = id;
        Remote = remote;
    }

    /// <summary>The server-wide connection number, as in the log lines.</summary>
    public long Id { get; }

    public EndPoint? Remote { get; }

    public long BytesIn => Volatile.Read(ref _bytesIn);

    public long BytesOut => Volatile.Read(ref _bytesOut);

    /// <summary><see cref="Environment.TickCount64"/> when bytes last moved either way (see <see cref="IdleRule"/>).</summary>
    public long LastActive
    {
        get => Volatile.Read(ref _lastActive);
        set => Volatile.Write(ref _lastActive, value);
    }

    /// <summary>The kernel's send queue at the last idle look, -1 for none (see <see cref="IdleRule"/>); the idle sweeper's alone.</summary>
    public int UnsentSample { get; set; } = -1;

    /// <summary>The client shut down its sending side (end of stream): send what is pending, then close.</summary>
    public bool PeerClosed { get; set; }

    /// <summary>Stopping: every echo is out and our sending side is shut down (FIN); input is now read only to be discarded.</summary>
    public bool SendShut { get; set; }

    /// <summary>Closed already: a second close is a no-op.</summary>
    public bool Closed { get; set; }

    /// <summary>What the connection is doing, for the dashboard: derived from the state above unless the engine knows better.</summary>
    public virtual ConnectionActivity Activity =>
        SendShut ? ConnectionActivity.Draining
        : PeerClosed ? ConnectionActivity.Finishing
        : ConnectionActivity.WaitingForData;

    /// <summary>Counts bytes received (the owner only).</summary>
    public void Received(long count) => Volatile.Write(ref _bytesIn, _bytesIn + count);

    /// <summary>Counts bytes the kernel took for sending (the owner only).</summary>
    public void Sent(long count) => Volatile.Write(ref _bytesOut, _bytesOut + count);

    /// <summary>For engines whose idle sweep runs on another thread than the owner: the clock, for compare-exchange.</summary>
    protected ref long LastActiveSlot => ref _lastActive;

    /// <summary>What the dashboard and <c>--trace</c> show of it at <paramref name="now"/>.</summary>
    public ConnectionSnapshot ToSnapshot(long now) =>
        new(Id, Remote, BytesIn, BytesOut, Activity, TimeSpan.FromMilliseconds(Math.Max(0, now - LastActive)));
}
