using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace IoModels.Cli;

/// <summary>Turns statistics snapshots into the periodic line and the final summary <c>serve</c> prints.</summary>
internal static class StatisticsFormatter
{
    /// <summary>What follows the model's name on the summary's first line; bench finds the summary by it (EngineCalls).</summary>
    internal const string SummaryHeading = ": final statistics after ";

    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>"bytes in" for <see cref="EchoCounter.BytesIn"/>: the enum name split into words.</summary>
    public static string Label(EchoCounter counter)
    {
        string name = counter.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append(' ');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    /// <summary>
    /// One line for the interval between two snapshots: the model's key counters (totals, and rates
    /// for the ones that are not gauges), the ratios that show its cost, and the process's threads and CPU.
    /// </summary>
    public static string IntervalLine(ModelInfo model, StatisticsSnapshot earlier, StatisticsSnapshot now, double cpuPercent, int processThreads)
    {
        var line = new StringBuilder();
        line.Append(s_invariant, $"[{model.Name}] active {now[EchoCounter.ConnectionsActive]}");
        line.Append(s_invariant, $" | in {FormatRate(now.RatePerSecond(EchoCounter.BytesIn, earlier))}B/s out {FormatRate(now.RatePerSecond(EchoCounter.BytesOut, earlier))}B/s");
        foreach (EchoCounter counter in model.KeyCounters)
        {
            if (counter is EchoCounter.ConnectionsActive)
            {
                continue;
            }

            line.Append(" | ").Append(Label(counter)).Append(' ');
            line.Append(EchoStatistics.IsGauge(counter)
                ? now[counter].ToString(s_invariant)
                : FormatRate(now.RatePerSecond(counter, earlier)) + "/s");
        }

        AppendRatios(line, now, earlier);
        line.Append(s_invariant, $" | process threads {processThreads} cpu {cpuPercent:0}%");
        return line.ToString();
    }

    /// <summary>The final summary: every counter that moved, and the ratios that show the model's cost.</summary>
    public static string Summary(ModelInfo model, StatisticsSnapshot final, TimeSpan uptime)
    {
        var text = new StringBuilder();
        text.Append(s_invariant, $"{model.Name}{SummaryHeading}{uptime.TotalSeconds:0.0}s").AppendLine();
        foreach ((EchoCounter counter, long value) in final.NonZero())
        {
            text.Append(s_invariant, $"  {Label(counter),-22} {value,16:N0}").AppendLine();
        }

        var ratios = new StringBuilder();
        AppendRatios(ratios, final, earlier: null);
        if (ratios.Length > 0)
        {
            text.Append("  ").Append(ratios.ToString().TrimStart(' ', '|').Replace(" | ", Environment.NewLine + "  ", StringComparison.Ordinal)).AppendLine();
        }

        // How the stop went, always, zeros included: "0 bytes never echoed" is the claim a clean drain makes.
        text.Append(s_invariant,
            $"  stop: {final[EchoCounter.ConnectionsDrained]:N0} connections drained (every echo, then FIN), {final[EchoCounter.ConnectionsCutAtStop]:N0} reset at the drain deadline, {final[EchoCounter.BytesNotEchoed]:N0} bytes read and never echoed").AppendLine();
        return text.ToString();
    }

    /// <summary>The ratios of <see cref="AppendRatios"/> as text, without the leading separator (empty when none applies).</summary>
    public static string Ratios(StatisticsSnapshot now, StatisticsSnapshot? earlier)
    {
        var text = new StringBuilder();
        AppendRatios(text, now, earlier);
        return text.ToString().TrimStart(' ', '|');
    }

    /// <summary>Would-block share, events per wait, sockets scanned per wait: over the interval, or in total when <paramref name="earlier"/> is null.</summary>
    private static void AppendRatios(StringBuilder line, StatisticsSnapshot now, StatisticsSnapshot? earlier)
    {
        long Delta(EchoCounter c) => now[c] - (earlier?[c] ?? 0);

        long calls = Delta(EchoCounter.ReceiveCalls) + Delta(EchoCounter.SendCalls);
        long wouldBlock = Delta(EchoCounter.WouldBlock);
        if (wouldBlock > 0 && calls > 0)
        {
            line.Append(s_invariant, $" | would-block {100.0 * wouldBlock / calls:0.0}% of calls");
        }

        long waits = Delta(EchoCounter.Waits);
        if (waits > 0)
        {
            line.Append(s_invariant, $" | waits {waits}, {(double)Delta(EchoCounter.ReadyEvents) / waits:0.##} ready per wait");
            long scanned = Delta(EchoCounter.SocketsScanned);
            if (scanned > 0)
            {
                line.Append(s_invariant, $", {(double)scanned / waits:0.#} sockets scanned per wait");
            }
        }

        long signals = Delta(EchoCounter.Signals);
        if (signals > 0)
        {
            // Not scanned / signals: the re-check sweeps try every socket too, and with few signals they
            // dominate (2 clients, 1 signal, 4 re-checks read "15 sockets tried per signal" with 3 sockets).
            // Every sweep, after a signal or not, tries them all: per sweep is the cost of one signal.
            line.Append(s_invariant, $" | signals {signals}");
            long tried = Delta(EchoCounter.SocketsScanned), sweeps = Delta(EchoCounter.Sweeps);
            if (tried > 0 && sweeps > 0)
            {
                long recheck = Delta(EchoCounter.WaitTimeouts);
                line.Append(s_invariant,
                    $", {(double)tried / sweeps:0.#} sockets tried per sweep (waits ended: {Math.Max(0, waits - recheck)} woken by a signal or stop, {recheck} by the re-check)");
            }
        }
    }

    public static string FormatRate(double value) => value switch
    {
        >= 1e9 => (value / 1e9).ToString("0.0", s_invariant) + "G",
        >= 1e6 => (value / 1e6).ToString("0.0", s_invariant) + "M",
        >= 1e4 => (value / 1e3).ToString("0.0", s_invariant) + "k",
        _ => value.ToString("0", s_invariant),
    };

    /// <summary>CPU used by this process between two readings, as a percentage of one core.</summary>
    public static double CpuPercent(TimeSpan cpuEarlier, TimeSpan cpuNow, long timestampEarlier, long timestampNow)
    {
        double wall = Stopwatch.GetElapsedTime(timestampEarlier, timestampNow).TotalSeconds;
        return wall <= 0 ? 0 : 100.0 * (cpuNow - cpuEarlier).TotalSeconds / wall;
    }
}
