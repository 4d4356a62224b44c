namespace IoModels;

/// <summary>
/// Lock-free counters for one server. Updates are single <see cref="Interlocked"/> operations (plus
/// a compare-exchange loop for peaks), cheap enough to stay on under benchmark load.
/// </summary>
public sealed class EchoStatistics
{
    internal static readonly int CounterCount = Enum.GetValues<EchoCounter>().Length;

    private readonly long[] _values = new long[CounterCount];

    /// <summary>Adds <paramref name="delta"/> (may be negative for gauges) and raises the gauge's peak if needed. Returns the new value.</summary>
    public long Add(EchoCounter counter, long delta)
    {
        long value = Interlocked.Add(ref _values[(int)counter], delta);
        EchoCounter? peak = PeakOf(counter);
        if (peak is { } p && delta > 0)
        {
            ref long peakSlot = ref _values[(int)p];
            long seen = Volatile.Read(ref peakSlot);
            while (value > seen)
            {
                long previous = Interlocked.CompareExchange(ref peakSlot, value, seen);
                if (previous == seen)
                {
                    break;
                }

                seen = previous;
            }
        }

        return value;
    }

    /// <summary>Adds one.</summary>
    public long Increment(EchoCounter counter) => Add(counter, 1);

    /// <summary>Subtracts one (gauges only).</summary>
    public long Decrement(EchoCounter counter) => Add(counter, -1);

    /// <summary>The current value.</summary>
    public long this[EchoCounter counter] => Volatile.Read(ref _values[(int)counter]);

    /// <summary>A consistent-enough copy of every counter, stamped with the time it was taken.</summary>
    public StatisticsSnapshot Snapshot()
    {
        var copy = new long[CounterCount];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = Volatile.Read(ref _values[i]);
        }

        return new StatisticsSnapshot(copy, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>The peak counter that follows a gauge, or null for totals.</summary>
    public static EchoCounter? PeakOf(EchoCounter counter) => counter switch
    {
        EchoCounter.ConnectionsActive => EchoCounter.PeakConnections,
        EchoCounter.Threads => EchoCounter.PeakThreads,
        EchoCounter.BufferedBytes => EchoCounter.PeakBufferedBytes,
        _ => null,
    };

    /// <summary>True for counters that go up and down (and their peaks), which make no sense as a rate.</summary>
    public static bool IsGauge(EchoCounter counter) =>
        PeakOf(counter) is not null || counter is EchoCounter.PeakConnections or EchoCounter.PeakThreads or EchoCounter.PeakBufferedBytes;
}
