namespace IoModels.Cli.Demos;

/// <summary>
/// One scripted lesson for <c>iomodels demo</c>: it starts servers in this process through the
/// registry, drives loopback clients, narrates what happens, and ends with a conclusion that quotes
/// the numbers it measured in this run.
/// </summary>
internal interface IDemoScenario
{
    /// <summary>The name on the command line, e.g. <c>one-worker</c>.</summary>
    string Name { get; }

    /// <summary>One line: what the scenario shows.</summary>
    string Title { get; }

    /// <summary>The registry models it needs; it refuses to start when one is missing.</summary>
    IReadOnlyList<string> Models { get; }

    /// <summary>Runs the scenario, narrating on <see cref="DemoContext.Output"/>; returns what it measured.</summary>
    Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken);
}
