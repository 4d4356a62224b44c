using System.Net;
using IoModels.Load;

namespace IoModels.Cli.Bench;

/// <summary>What <c>iomodels bench</c> was asked to do, parsed and ready (testable without the parser).</summary>
internal sealed record BenchSettings
{
    /// <summary>Servers to start as child processes, in order; empty with only a <see cref="Target"/>.</summary>
    public IReadOnlyList<BenchServer> Models { get; init; } = [];

    /// <summary>An external echo server to measure as well (host and port), or null.</summary>
    public DnsEndPoint? Target { get; init; }

    /// <summary>The row label for <see cref="Target"/>.</summary>
    public string? TargetLabel { get; init; }

    /// <summary>The process serving <see cref="Target"/>, if known: its CPU, threads and memory are read like a child's.</summary>
    public int? TargetPid { get; init; }

    public IReadOnlyList<int> Connections { get; init; } = [100];
    public IReadOnlyList<int> Sizes { get; init; } = [32];
    public int Depth { get; init; } = 1;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);
    public double? Rate { get; init; }

    /// <summary>Which load generator drives the load (auto: epoll on Linux).</summary>
    public LoadGeneratorKind Generator { get; init; } = LoadGeneratorKind.Auto;

    /// <summary>Load generator threads (epoll generator), or null for its default.</summary>
    public int? LoadThreads { get; init; }

    /// <summary>Scale runs: per server, open this many connections, echo once on each, hold them idle and read the server's memory. Empty: none.</summary>
    public IReadOnlyList<int> Scale { get; init; } = [];

    /// <summary>How long the scale runs hold their connections idle before reading the server's memory.</summary>
    public TimeSpan ScaleHold { get; init; } = TimeSpan.FromSeconds(1);
    public BenchFormat Format { get; init; } = BenchFormat.Table;
    public string? OutputFile { get; init; }
    public string? ChartFile { get; init; }

    /// <summary>The command line as typed, recorded with the results.</summary>
    public string CommandLine { get; init; } = "iomodels bench";

    /// <summary>How many load runs the grid makes.</summary>
    public int RunCount => (Models.Count + (Target is null ? 0 : 1)) * ((Connections.Count * Sizes.Count) + Scale.Count);
}
