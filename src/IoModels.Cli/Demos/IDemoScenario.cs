namespace IoModels.Cli.Demos;

/// <summary>
/// One scripted lesson for <c>iomodels demo</c>: it starts servers in this process through the
/// registry, drives loopback clients, narrates what happens, and ends with a conclusion that quotes
/// the numbers it measured in this run, or with none when those numbers do not show the claim.
/// </summary>
internal interface IDemoScenario
{
    /// <summary>The name on the command line, e.g. <c>one-worker</c>.</summary>
    string Name { get; }

    /// <summary>One line: what the scenario shows, in <paramref name="language"/> (en or zh).</summary>
    string Title(string language);

    /// <summary>The registry models it needs; it refuses to start when one is missing.</summary>
    IReadOnlyList<string> Models { get; }

    /// <summary>Runs the scenario, narrating on <see cref="DemoContext.Output"/>; returns what it measured, judged by <see cref="Judge"/>.</summary>
    Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Predict, then measure: the question put to the audience before the run, sized as this run will be
    /// (<paramref name="context"/> carries the scale and the language).
    /// </summary>
    string Question(DemoContext context);

    /// <summary>The answer to <see cref="Question"/>, quoting the run's numbers; said whether or not they support the conclusion.</summary>
    string Answer(IReadOnlyDictionary<string, double> numbers, string language);

    /// <summary>How to watch the same thing with the OS's own tools while the demo runs in process <paramref name="processId"/>: one command a line.</summary>
    IReadOnlyList<string> Verify(int processId, string language);

    /// <summary>
    /// The conclusion from a run's numbers (those <see cref="RunAsync"/> returns), only if they show the claim:
    /// the same numbers always give the same verdict in either language, so tests can hand it a run that failed.
    /// </summary>
    DemoResult Judge(IReadOnlyDictionary<string, double> numbers, string language = "en");
}
