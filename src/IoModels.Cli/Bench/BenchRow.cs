using IoModels.Load;

namespace IoModels.Cli.Bench;

/// <summary>One run of the grid: one server (a model or the target) under one load, and what it cost.</summary>
internal sealed record BenchRow
{
    /// <summary>The model name, or the target's label.</summary>
    public required string Server { get; init; }
    public required int Connections { get; init; }
    public required int Size { get; init; }
    public required int Depth { get; init; }
    public double? Rate { get; init; }
    public required long Messages { get; init; }
    public required double Seconds { get; init; }
    public required double MessagesPerSecond { get; init; }
    public required double MegabytesPerSecond { get; init; }
    public required double P50Microseconds { get; init; }
    public required double P90Microseconds { get; init; }
    public required double P99Microseconds { get; init; }
    public required double P999Microseconds { get; init; }
    public required double MaxMicroseconds { get; init; }
    public required long Errors { get; init; }
    public required long Mismatches { get; init; }
    public required int ConnectionsOpened { get; init; }
    public required double ConnectMilliseconds { get; init; }

    /// <summary>Server CPU (user + system) in the measured window per million echoed messages; null when the server process is unknown.</summary>
    public double? CpuSecondsPerMillion { get; init; }

    /// <summary>The most threads the server process had, sampled during the run.</summary>
    public int? PeakThreads { get; init; }

    /// <summary>The server process's peak resident memory (Linux: VmHWM) in bytes.</summary>
    public long? PeakMemoryBytes { get; init; }

    /// <summary>The engine's own calls per echoed message (see <see cref="Bench.EngineCalls"/>); null for a --target, or a server that printed no summary.</summary>
    public EngineCalls? EngineCalls { get; init; }

    public static BenchRow From(string server, LoadResult result, TimeSpan? serverCpu, int? peakThreads, long? peakMemory) => new()
    {
        Server = server,
        Connections = result.Options.Connections,
        Size = result.Options.MessageSize,
        Depth = result.Options.Depth,
        Rate = result.Options.Rate,
        Messages = result.Messages,
        Seconds = result.Elapsed.TotalSeconds,
        MessagesPerSecond = result.MessagesPerSecond,
        MegabytesPerSecond = result.MegabytesPerSecond,
        P50Microseconds = result.LatencyAt(50).TotalMicroseconds,
        P90Microseconds = result.LatencyAt(90).TotalMicroseconds,
        P99Microseconds = result.LatencyAt(99).TotalMicroseconds,
        P999Microseconds = result.LatencyAt(99.9).TotalMicroseconds,
        MaxMicroseconds = result.LatencyMax.TotalMicroseconds,
        Errors = result.Errors,
        Mismatches = result.MismatchedBytes,
        ConnectionsOpened = result.ConnectionsOpened,
        ConnectMilliseconds = result.ConnectTime.TotalMilliseconds,
        CpuSecondsPerMillion = serverCpu is { } cpu && result.Messages > 0 ? cpu.TotalSeconds / result.Messages * 1e6 : null,
        PeakThreads = peakThreads,
        PeakMemoryBytes = peakMemory,
    };
}
