using System.Globalization;

namespace IoModels.Tests.Reliability;

/// <summary>
/// The knobs of the reliability suite, from environment variables so CI runs a short pass and a soak
/// is the same test run longer:
/// IOMODELS_FAULT_SEED (replay a run), IOMODELS_FAULT_SECONDS (traffic per engine case),
/// IOMODELS_FAULT_CLIENTS, IOMODELS_MEMORY_CLIENTS, IOMODELS_DESCRIPTOR_MATRIX, IOMODELS_RELIABILITY_REPORT (a file the tests
/// append their figures to; tests/reliability/report.sh turns it into the README table).
/// </summary>
internal static class ReliabilitySettings
{
    private static readonly object s_reportLock = new();

    /// <summary>
    /// Seconds of random traffic per engine case. 5 s in plain <c>dotnet test</c>: twelve engine cases
    /// then take about a minute and a half of the suite's ten; tests/reliability/report.sh runs 10 s
    /// per case for the README's table; set it to 600 for a soak.
    /// </summary>
    public static TimeSpan FaultDuration { get; } = TimeSpan.FromSeconds(Read("IOMODELS_FAULT_SECONDS", 5));

    /// <summary>Concurrent clients in a fault run: 40, enough to interleave every behaviour on every engine thread.</summary>
    public static int FaultClients { get; } = Read("IOMODELS_FAULT_CLIENTS", 40);

    /// <summary>Clients of the memory-bound test: 1,000 slow readers, so per-connection memory dominates the figure.</summary>
    public static int MemoryClients { get; } = Read("IOMODELS_MEMORY_CLIENTS", 1000);

    /// <summary>The run's seed: IOMODELS_FAULT_SEED if set, else a fresh one (printed on failure, so the run can be replayed).</summary>
    public static int FaultSeed { get; } = Read("IOMODELS_FAULT_SEED", Random.Shared.Next());

    /// <summary>
    /// IOMODELS_DESCRIPTOR_MATRIX=all: the descriptor-limit test runs every engine case at every limit
    /// (every case x 7 limits, several minutes); unset, every engine case at 128 and the default model at 64.
    /// </summary>
    public static bool FullDescriptorMatrix { get; } = Environment.GetEnvironmentVariable("IOMODELS_DESCRIPTOR_MATRIX") == "all";

    public static string? ReportPath { get; } = Environment.GetEnvironmentVariable("IOMODELS_RELIABILITY_REPORT");

    /// <summary>Appends one tab-separated row to the report file, when one was asked for.</summary>
    public static void Report(params object[] fields)
    {
        if (ReportPath is null)
        {
            return;
        }

        string line = string.Join('\t', fields.Select(f => Convert.ToString(f, CultureInfo.InvariantCulture))) + Environment.NewLine;
        lock (s_reportLock)
        {
            File.AppendAllText(ReportPath, line);
        }
    }

    private static int Read(string name, int fallback)
    {
        string? text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new InvalidOperationException($"{name} must be a positive whole number, not '{text}'");
    }
}
