namespace IoModels.Cli.Bench;

/// <summary>
/// One scale run (<c>bench --scale N</c>): N connections opened at once, one echo on each, then all
/// held idle; how long that took and what the idle connections cost the server in memory.
/// </summary>
internal sealed record ScaleRow
{
    /// <summary>The model name, or the target's label.</summary>
    public required string Server { get; init; }
    public required int Connections { get; init; }
    public required int ConnectionsOpened { get; init; }

    /// <summary>From the first connect until the last of the set was open.</summary>
    public required double ConnectMilliseconds { get; init; }

    /// <summary>From the first connect until every connection had its echo; null if some never did.</summary>
    public required double? AllEchoedMilliseconds { get; init; }

    public required long Errors { get; init; }
    public required long Mismatches { get; init; }

    /// <summary>The server's resident memory before the connections opened (null: unknown process).</summary>
    public long? MemoryBeforeBytes { get; init; }

    /// <summary>The server's resident memory with every connection open and idle.</summary>
    public long? MemoryIdleBytes { get; init; }

    /// <summary>(idle - before) / connections opened: what one idle connection costs the server process, beyond the kernel's socket.</summary>
    public double? BytesPerIdleConnection =>
        MemoryBeforeBytes is { } before && MemoryIdleBytes is { } idle && ConnectionsOpened > 0 ? (double)(idle - before) / ConnectionsOpened : null;

    /// <summary>The most threads the server had during the run.</summary>
    public int? PeakThreads { get; init; }
}
