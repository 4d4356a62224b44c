namespace IoModels.Cli.Bench;

/// <summary>Everything one <c>iomodels bench</c> produced: where, what command, when, and every run.</summary>
internal sealed record BenchReport
{
    public required MachineInfo Machine { get; init; }
    public required string Command { get; init; }
    public required DateTimeOffset Started { get; init; }

    /// <summary>The load generator that ran, e.g. "epoll, 1 thread".</summary>
    public required string Generator { get; init; }

    public required IReadOnlyList<BenchRow> Runs { get; init; }

    /// <summary>The scale runs (<c>--scale</c>), if any.</summary>
    public IReadOnlyList<ScaleRow> Scale { get; init; } = [];
}
