using System.Collections.Concurrent;

namespace IoModels;

/// <summary>
/// A server's open connections, whatever the engine: <see cref="EchoServerBase"/> adds each one it
/// is told to track and removes it when the connection is counted out, so the dashboard, <c>--trace</c>
/// and (for engines whose connections are served by their own thread or flow) the idle sweep and stop
/// read one table. One add and one remove per connection, nothing per message.
/// </summary>
public sealed class ConnectionTable
{
    private readonly ConcurrentDictionary<long, Connection> _entries = new();

    public int Count => _entries.Count;

    public void Add(Connection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _entries[connection.Id] = connection;
    }

    public void Remove(long id) => _entries.TryRemove(id, out _);

    /// <summary>The connections now (a moment's view: connections may come and go while it is read).</summary>
    public IEnumerable<Connection> Entries
    {
        get
        {
            // Enumerating the dictionary itself takes no lock and copies nothing (Values would copy every entry).
            foreach (KeyValuePair<long, Connection> pair in _entries)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>Up to <paramref name="max"/> connections, oldest first, as they are at <paramref name="now"/>.</summary>
    public IReadOnlyList<ConnectionSnapshot> Snapshot(int max, long now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return [.. _entries.Values.OrderBy(c => c.Id).Take(max).Select(c => c.ToSnapshot(now))];
    }
}
