using System.Diagnostics;

namespace IoModels;

/// <summary>The counters of one server at one instant.</summary>
public sealed class StatisticsSnapshot
{
    private readonly long[] _values;

    internal StatisticsSnapshot(long[] values, long timestamp)
    {
        _values = values;
        Timestamp = timestamp;
    }

    /// <summary>When it was taken, in <see cref="Stopwatch"/> ticks.</summary>
    public long Timestamp { get; }

    /// <summary>The value of one counter.</summary>
    public long this[EchoCounter counter] => _values[(int)counter];

    /// <summary>Per-second rate of <paramref name="counter"/> between <paramref name="earlier"/> and this snapshot.</summary>
    public double RatePerSecond(EchoCounter counter, StatisticsSnapshot earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        double seconds = Stopwatch.GetElapsedTime(earlier.Timestamp, Timestamp).TotalSeconds;
        return seconds <= 0 ? 0 : (this[counter] - earlier[counter]) / seconds;
    }

    /// <summary>The counters that are not zero, in declaration order.</summary>
    public IEnumerable<(EchoCounter Counter, long Value)> NonZero()
    {
        foreach (EchoCounter counter in Enum.GetValues<EchoCounter>())
        {
            long value = this[counter];
            if (value != 0)
            {
                yield return (counter, value);
            }
        }
    }
}
