namespace IoModels.Tests.Classroom;

/// <summary>
/// The demos read process-wide numbers (the thread pool's completed work items, the process's CPU time), so
/// their tests run alone, after the parallel tests: another test's pool work or CPU must not count as theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DemosRunAlone
{
    public const string Name = "demos (process-wide counts)";
}
