namespace IoModels.Cli.Demos;

/// <summary>Every scenario <c>iomodels demo</c> knows, in the order a lesson would use them.</summary>
internal static class DemoCatalog
{
    public static IReadOnlyList<IDemoScenario> All { get; } =
    [
        new OneWorkerDemo(),
        new PoolOfTwoDemo(),
        new BusyPollDemo(),
        new SelectVsEpollDemo(),
        new ThreadsVsAsyncDemo(),
        new EdgeVsLevelDemo(),
        new UringVsEpollDemo(),
        new AsyncIsReadinessDemo(),
        new PitfallsDemo(),
    ];

    public static IDemoScenario? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}
