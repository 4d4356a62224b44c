using System.Collections.Concurrent;
using System.Net;

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

    public Entry Add(long id, EndPoint? remote)
    {
        var entry = new Entry(id, remote);
        _entries[id] = entry;
        return entry;
    }

    public void Remove(long id) => _entries.TryRemove(id, out _);

    public IReadOnlyList<ConnectionSnapshot> Snapshot(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return [.. _entries.Values.OrderBy(e => e.Id).Take(max).Select(e => e.ToSnapshot())];
    }

    /// <summary>One connection's live figures.</summary>
    public sealed class Entry
    {
        private long _bytesIn;
        private long _bytesOut;
        private int _activity;

        internal Entry(long id, EndPoint? remote)
        {
            Id = id;
            Remote = remote;
        }

        public long Id { get; }

        public EndPoint? Remote { get; }

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
