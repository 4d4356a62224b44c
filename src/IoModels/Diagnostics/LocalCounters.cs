namespace IoModels;

/// <summary>
/// Counts one event loop keeps for itself and adds to the server's <see cref="EchoStatistics"/> once
/// per wait (<see cref="FlushTo"/>): the loop is the only writer, so counting a call is a plain add,
/// and the shared counters see a handful of atomic adds per wait instead of several per message.
/// Totals belong here. A gauge counted here reaches its peak counter only once per flush, so gauges
/// whose peaks must be exact (active connections, threads) are updated where they change; uring counts
/// its pool's buffered bytes here and so samples that peak once per wait.
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
