namespace IoModels.Cli.Bench;

/// <summary>Everything one <c>iomodels bench</c> produced: where, what command, when, and every run.</summary>
internal sealed record BenchReport
{
    public required MachineInfo Machine { get; init; }
    public required string Command { get; init; }
    public required DateTimeOffset Started { get; init; }
    public required IReadOnlyList<BenchRow> Runs { get; init; }
}
