using HdrHistogram;

namespace IoModels.Load;

/// <summary>
/// What one load run measured. Counts and the latency histogram cover only the measured window
/// (after the warm-up); <see cref="Errors"/> and <see cref="MismatchedBytes"/> cover the whole run,
/// because a wrong byte during the warm-up is as wrong as any other.
/// </summary>
public sealed class LoadResult
{
    internal LoadResult(LoadOptions options, HistogramBase latency)
    {
        Options = options;
        Latency = latency;
    }

    public LoadOptions Options { get; }

    /// <summary>Which generator ran (<see cref="LoadGeneratorKind.Epoll"/> or <see cref="LoadGeneratorKind.Sockets"/>, never Auto).</summary>
    public LoadGeneratorKind Generator { get; init; }

    /// <summary>Threads the generator ran on (0: the runtime's thread pool).</summary>
    public int Threads { get; init; }

    /// <summary>Connections that opened (fewer than asked means some were refused or timed out: see <see cref="ConnectFailures"/>).</summary>
    public int ConnectionsOpened { get; init; }

    /// <summary>Connections that could not be opened.</summary>
    public int ConnectFailures { get; init; }

    /// <summary>Wall time from the first connect until the last of the set was open.</summary>
    public TimeSpan ConnectTime { get; init; }

    /// <summary>
    /// Scale mode (<see cref="LoadOptions.MessagesPerConnection"/>): from the first connect until every
    /// open connection had all its echoes; null otherwise, or when some never did.
    /// </summary>
    public TimeSpan? AllEchoedAfter { get; init; }

    /// <summary>The measured window (the requested duration, or less if the run was cut short).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Whole echoes received, every byte checked, in the measured window (scale mode: in the whole run).</summary>
    public long Messages { get; init; }

    /// <summary>Connections that failed while running (reset, closed by the server, send or receive error), plus connect failures.</summary>
    public long Errors { get; init; }

    /// <summary>Echoed bytes that were not the uppercase of what was sent, plus bytes the server sent that were never asked for.</summary>
    public long MismatchedBytes { get; init; }

    /// <summary>Round-trip time of each message in nanoseconds: from send (closed loop) or from the intended send time (open loop) to the last byte of its echo.</summary>
    public HistogramBase Latency { get; }

    /// <summary>Echoed bytes in the measured window.</summary>
    public long Bytes => Messages * Options.MessageSize;

    public double MessagesPerSecond => Elapsed > TimeSpan.Zero ? Messages / Elapsed.TotalSeconds : 0;

    /// <summary>Echoed payload in megabytes (10^6 bytes) per second, one direction.</summary>
    public double MegabytesPerSecond => Elapsed > TimeSpan.Zero ? Bytes / Elapsed.TotalSeconds / 1e6 : 0;

    /// <summary>The latency at <paramref name="percentile"/> (0-100), or zero when nothing was measured.</summary>
    public TimeSpan LatencyAt(double percentile) =>
        Latency.TotalCount == 0 ? TimeSpan.Zero : FromNanoseconds(Latency.GetValueAtPercentile(percentile));

    public TimeSpan LatencyMax => Latency.TotalCount == 0 ? TimeSpan.Zero : FromNanoseconds(Latency.GetMaxValue());

    private static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);
}
