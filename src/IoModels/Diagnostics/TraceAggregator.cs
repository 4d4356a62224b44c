using System.Diagnostics;
using Serilog;
using Serilog.Events;

namespace IoModels;

/// <summary>
/// Narrates what an engine does, for <c>serve --trace</c>, without flooding the log: the first few
/// events of each kind in every interval are logged one by one (a class can follow a single client
/// step by step), the rest are only counted, and once per interval one summary line per kind says
/// how many there were and what they carried on average.
/// </summary>
/// <remarks>
/// Engines call <see cref="Record"/> at each step. When Debug logging is off (the default) that is
/// one field test and a return, so the calls stay in the hot path for good. Whether tracing is on is
/// decided once, when the aggregator is made: <c>serve</c> sets the log level before it creates the
/// engine. Counts are Interlocked adds; only the once-a-second flush takes a lock. The two sums of a
/// kind are reset separately from its count, so a summary may be off by the few events that raced
/// the flush: good enough for narration, which is all this is.
/// </remarks>
public sealed class TraceAggregator : IDisposable
{
    /// <summary>
    /// Events of one kind narrated one by one per interval before the rest are only counted. Three:
    /// enough to follow one client through a request, few enough that 1,000 busy clients still make
    /// a handful of lines a second.
    /// </summary>
    public const int DetailedPerInterval = 3;

    /// <summary>How often the counted events are summarised: once a second, the pace a reader can follow.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private static readonly int s_kindCount = Enum.GetValues<TraceEvent>().Length;

    private readonly ILogger _log;
    private readonly string _model;
    private readonly Slot[] _slots = new Slot[s_kindCount];
    private readonly Timer? _timer;
    private readonly Lock _flushLock = new();
    private long _intervalStart = Stopwatch.GetTimestamp();
    private bool _disposed;

    public TraceAggregator(ILogger log, string model, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
        _model = model;
        Enabled = log.IsEnabled(LogEventLevel.Debug);
        if (Enabled)
        {
            TimeSpan period = interval ?? DefaultInterval;
            _timer = new Timer(static state => ((TraceAggregator)state!).Flush(), this, period, period);
        }
    }

    /// <summary>True when Debug logging was on at construction; otherwise every call returns at once.</summary>
    public bool Enabled { get; }

    /// <summary>
    /// Records one step. <paramref name="connection"/> is the client's id (0 when the step is not about
    /// one client); <paramref name="a"/> and <paramref name="b"/> mean what <see cref="TraceEvent"/> says for the kind.
    /// </summary>
    public void Record(TraceEvent kind, long connection = 0, long a = 0, long b = 0)
    {
        if (!Enabled)
        {
            return;
        }

        ref Slot slot = ref _slots[(int)kind];
        long count = Interlocked.Increment(ref slot.Count);
        if (a != 0)
        {
            Interlocked.Add(ref slot.SumA, a);
        }

        if (b != 0)
        {
            Interlocked.Add(ref slot.SumB, b);
        }

        if (count <= DetailedPerInterval)
        {
            EchoLog.TraceStep(_log, _model, kind, connection, a, b);
        }
    }

    /// <summary>Writes one summary line per kind that had more events than were narrated, and starts a new interval.</summary>
    public void Flush()
    {
        if (!Enabled)
        {
            return;
        }

        lock (_flushLock)
        {
            long now = Stopwatch.GetTimestamp();
            TimeSpan elapsed = Stopwatch.GetElapsedTime(Interlocked.Exchange(ref _intervalStart, now), now);
            for (int i = 0; i < _slots.Length; i++)
            {
                ref Slot slot = ref _slots[i];
                long count = Interlocked.Exchange(ref slot.Count, 0);
                long sumA = Interlocked.Exchange(ref slot.SumA, 0);
                long sumB = Interlocked.Exchange(ref slot.SumB, 0);
                if (count > DetailedPerInterval)
                {
                    EchoLog.TraceSummary(_log, _model, (TraceEvent)i, count, sumA, sumB, elapsed);
                }
            }
        }
    }

    /// <summary>Stops the timer and writes the last summary.</summary>
    public void Dispose()
    {
        lock (_flushLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _timer?.Dispose();
        Flush();
    }

    private struct Slot
    {
        public long Count;
        public long SumA;
        public long SumB;
    }
}
