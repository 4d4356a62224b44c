using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// The open connections of one engine, for <see cref="IConnectionListing"/>: an engine adds a
/// connection when it starts serving it, updates the returned entry as bytes move, and removes it
/// at close. Updates are plain volatile writes by the one thread (or async flow) that owns the
/// connection; the dashboard only reads.
/// </summary>
public sealed class ConnectionTable
{
    private readonly ConcurrentDictionary<long, Entry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Adds a connection; <paramref name="socket"/> is kept for engines that close connections from outside their owner (idle sweeps, stop).</summary>
    public Entry Add(long id, EndPoint? remote, Socket? socket = null)
    {
        var entry = new Entry(id, remote, socket);
        _entries[id] = entry;
        return entry;
    }

    public void Remove(long id) => _entries.TryRemove(id, out _);

    /// <summary>The entries now (a moment's view: connections may come and go while it is read).</summary>
    public IEnumerable<Entry> Entries
    {
        get
        {
            // Enumerating the dictionary itself takes no lock and copies nothing (Values would copy every entry).
            foreach (KeyValuePair<long, Entry> pair in _entries)
            {
                yield return pair.Value;
            }
        }
    }

    public IReadOnlyList<ConnectionSnapshot> Snapshot(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return [.. _entries.Values.OrderBy(e => e.Id).Take(max).Select(e => e.ToSnapshot())];
    }

    /// <summary>One connection's live figures.</summary>
    public sealed class Entry
    {
        /// <summary><see cref="LastActive"/> once an idle sweep has closed the connection.</summary>
        private const long ClosedForIdle = long.MinValue;

        private const int Reading = 0;
        private const int Echoing = 1;
        private const int Shut = 2;

        private long _bytesIn;
        private long _bytesOut;
        private int _activity;
        private int _phase; // Reading, Echoing or Shut: the stop-time handshake below
        private long _lastActive = Environment.TickCount64;

        internal Entry(long id, EndPoint? remote, Socket? socket)
        {
            Id = id;
            Remote = remote;
            Socket = socket;
        }

        public long Id { get; }

        public EndPoint? Remote { get; }

        /// <summary>The connection's socket, if the engine gave it (see <see cref="Add"/>).</summary>
        public Socket? Socket { get; }

        /// <summary>When the connection last moved bytes (<see cref="Environment.TickCount64"/>).</summary>
        public long LastActive => Volatile.Read(ref _lastActive);

        /// <summary>True once <see cref="TryCloseForIdle"/> won: the close is logged as an idle timeout.</summary>
        public bool IsClosedForIdle => LastActive == ClosedForIdle;

        /// <summary>Records traffic now, unless an idle sweep already closed the connection.</summary>
        public void Touch()
        {
            long seen = Volatile.Read(ref _lastActive);
            if (seen != ClosedForIdle)
            {
                Interlocked.CompareExchange(ref _lastActive, Environment.TickCount64, seen);
            }
        }

        /// <summary>Marks the connection closed for idleness if it has been silent since <paramref name="seen"/>; true if this call marked it.</summary>
        public bool TryCloseForIdle(long seen) =>
            seen != ClosedForIdle && Interlocked.CompareExchange(ref _lastActive, ClosedForIdle, seen) == seen;

        /// <summary>Set with <see cref="TryCloseForIdle"/> when echoes were pending: the close is a reset (<see cref="CloseReason.IdleStalled"/>).</summary>
        public bool StalledAtIdle { get; set; }

        /// <summary>The kernel's send queue at the last idle look, -1 for none (see <see cref="IdleRule"/>); the one idle sweeper's alone.</summary>
        public int UnsentSample { get; set; } = -1;

        // ---- Graceful stop for engines whose connections are served by their own thread or async flow ----
        // Exactly one of the owner and the stopper shuts the sending side down (FIN), and only while the
        // owner holds no unsent echo: the owner marks each echo's start and end, the stopper may take a
        // connection that is reading, and the owner takes the ones that were echoing when it sees Stopping.

        /// <summary>Owner: a receive returned data. False if the stopper shut the connection first: that input arrived after stop began and is discarded.</summary>
        public bool TryBeginEcho() => Interlocked.CompareExchange(ref _phase, Echoing, Reading) == Reading;

        /// <summary>Owner: the echo is sent; back to reading.</summary>
        public void EndEcho() => Volatile.Write(ref _phase, Reading);

        /// <summary>Owner or stopper: claims the shutdown of a connection with no echo in hand. True for the one caller that must now shut the sending side down.</summary>
        public bool TryShut() => Interlocked.CompareExchange(ref _phase, Shut, Reading) == Reading;

        /// <summary>The sending side is shut down (or being shut down) for stop: input is now only discarded.</summary>
        public bool IsShut => Volatile.Read(ref _phase) == Shut;

        public void Received(long count) => Volatile.Write(ref _bytesIn, _bytesIn + count);

        public void Sent(long count) => Volatile.Write(ref _bytesOut, _bytesOut + count);

        public ConnectionActivity Activity
        {
            get => (ConnectionActivity)Volatile.Read(ref _activity);
            set => Volatile.Write(ref _activity, (int)value);
        }

        internal ConnectionSnapshot ToSnapshot() =>
            new(Id, Remote, Volatile.Read(ref _bytesIn), Volatile.Read(ref _bytesOut), Activity);
    }
}
