namespace IoModels;

/// <summary>
/// Counts one event loop keeps for itself and adds to the server's <see cref="EchoStatistics"/> once
/// per wait (<see cref="FlushTo"/>): the loop is the only writer, so counting a call is a plain add,
/// and the shared counters see a handful of atomic adds per wait instead of several per message.
/// Only totals belong here; gauges (active connections, threads, buffered bytes) are updated where
/// they change, because their peaks must be exact.
/// </summary>
public sealed class LocalCounters
{
    private readonly long[] _values = new long[EchoStatistics.CounterCount];

    /// <summary>Counts <paramref name="delta"/> more of <paramref name="counter"/>, locally.</summary>
    public void Add(EchoCounter counter, long delta) => _values[(int)counter] += delta;

    /// <summary>Counts one more of <paramref name="counter"/>, locally.</summary>
    public void Increment(EchoCounter counter) => _values[(int)counter]++;

    /// <summary>What has been counted locally since the last flush.</summary>
    public long this[EchoCounter counter] => _values[(int)counter];

    /// <summary>Adds every local count to <paramref name="statistics"/> and starts again from zero.</summary>
    public void FlushTo(EchoStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        for (int i = 0; i < _values.Length; i++)
        {
            if (_values[i] != 0)
            {
                statistics.Add((EchoCounter)i, _values[i]);
                _values[i] = 0;
            }
        }
    }
}
