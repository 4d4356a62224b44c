namespace IoModels.Tests.Signal;

/// <summary>
/// SIGIO is process-wide: tests that count signals or subscribers run alone, after the parallel
/// tests, so no other signal engine in the test process adds to what they count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SigioRunsAlone
{
    public const string Name = "SIGIO (process-wide)";
}
