using System.Diagnostics;
using System.Globalization;
using Serilog;
using Serilog.Events;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace IoModels.Cli;

/// <summary>
/// <c>serve --dashboard</c>: a live terminal view of one running server, redrawn a few times a
/// second: the model's counters (totals and rates), connections, threads (the engine's and the
/// process's), process CPU and memory. When stdout is not a terminal there is nothing to redraw, and
/// <c>serve</c> prints the periodic <c>--stats</c> lines instead (see <see cref="CanDraw"/>).
/// </summary>
internal static class Dashboard
{
    /// <summary>Redraw period: four times a second looks live without costing the server measurable CPU.</summary>
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromMilliseconds(250);

    /// <summary>The line period when stdout is not a terminal: once a second, as <c>--stats 1s</c>.</summary>
    public static readonly TimeSpan FallbackInterval = TimeSpan.FromSeconds(1);

    /// <summary>Rates are averaged over this many refreshes (one second), so they do not flicker.</summary>
    private const int RateWindow = 4;

    /// <summary>Per-connection rows shown at most: ten fit a projected terminal beside the counters.</summary>
    private const int ConnectionRows = 10;

    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>True when <paramref name="output"/> is the console and the console is a terminal.</summary>
    public static bool CanDraw(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi;

    /// <summary>Says why the dashboard is replaced by periodic lines.</summary>
    public static void LogFallback(ILogger log, TimeSpan interval) =>
        log.Information("stdout is not a terminal: --dashboard prints a statistics line every {Interval} instead", Commands.CommonOptions.FormatDuration(interval));

    /// <summary>Redraws until <paramref name="cancellationToken"/> fires (Ctrl+C), then leaves the last frame on screen.</summary>
    public static async Task RunAsync(ModelInfo model, IEchoServer server, ILogger log, CancellationToken cancellationToken)
    {
        // Log lines written to the same terminal would tear the redrawn frame: pause them while the
        // dashboard owns the screen (redirect stderr, e.g. 2>trace.log, to keep them).
        LogEventLevel previousLevel = Logging.LevelSwitch.MinimumLevel;
        bool pauseLogs = !Console.IsErrorRedirected;
        if (pauseLogs)
        {
            log.Information("Logs are paused while the dashboard is shown; redirect stderr (2>server.log) to keep them");
            Logging.LevelSwitch.MinimumLevel = LogEventLevel.Error;
        }

        try
        {
            using var process = Process.GetCurrentProcess();
            var history = new Queue<(StatisticsSnapshot Snapshot, TimeSpan Cpu)>();
            var uptime = Stopwatch.StartNew();
            history.Enqueue((server.Statistics.Snapshot(), process.TotalProcessorTime));
            await AnsiConsole.Live(new Text("starting..."))
                .AutoClear(false)
                .Overflow(VerticalOverflow.Ellipsis)
                .StartAsync(async context =>
                {
                    using var timer = new PeriodicTimer(RefreshPeriod);
                    try
                    {
                        while (await timer.WaitForNextTickAsync(cancellationToken))
                        {
                            process.Refresh();
                            (StatisticsSnapshot now, TimeSpan cpuNow) = (server.Statistics.Snapshot(), process.TotalProcessorTime);
                            (StatisticsSnapshot earlier, TimeSpan cpuEarlier) = history.Peek();
                            double cpu = StatisticsFormatter.CpuPercent(cpuEarlier, cpuNow, earlier.Timestamp, now.Timestamp);
                            context.UpdateTarget(Frame(model, server, earlier, now, cpu, process, uptime.Elapsed));
                            history.Enqueue((now, cpuNow));
                            if (history.Count > RateWindow)
                            {
                                history.Dequeue();
                            }
                        }
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        // Expected: Ctrl+C or SIGTERM ends the dashboard; the last frame stays on screen.
                    }
                });
        }
        finally
        {
            if (pauseLogs)
            {
                Logging.LevelSwitch.MinimumLevel = previousLevel;
            }
        }
    }

    /// <summary>One frame: a heading, the counters table, and the process line.</summary>
    internal static IRenderable Frame(ModelInfo model, IEchoServer server, StatisticsSnapshot earlier, StatisticsSnapshot now,
        double cpuPercent, Process process, TimeSpan uptime)
    {
        var heading = new Markup(string.Create(s_invariant,
            $"[bold]{Markup.Escape(model.Name)}[/] on {Markup.Escape(server.LocalEndPoint.ToString())}  up {uptime:hh\\:mm\\:ss}  " +
            $"[bold]{now[EchoCounter.ConnectionsActive]}[/] connections (peak {now[EchoCounter.PeakConnections]})  Ctrl+C stops"));

        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("counter");
        table.AddColumn(new TableColumn("total").RightAligned());
        table.AddColumn(new TableColumn("per second").RightAligned());
        foreach (EchoCounter counter in CountersToShow(model, now))
        {
            bool gauge = EchoStatistics.IsGauge(counter);
            string label = model.KeyCounters.Contains(counter)
                ? "[bold]" + StatisticsFormatter.Label(counter) + "[/]"
                : StatisticsFormatter.Label(counter);
            table.AddRow(
                label,
                now[counter].ToString("N0", s_invariant),
                gauge ? "[dim](now)[/]" : StatisticsFormatter.FormatRate(now.RatePerSecond(counter, earlier)));
        }

        string ratios = StatisticsFormatter.Ratios(now, earlier);
        long workingSet = process.WorkingSet64;
        var threadsLine = new Markup(string.Create(s_invariant,
            $"threads: engine [bold]{now[EchoCounter.Threads]}[/] (peak {now[EchoCounter.PeakThreads]}), process [bold]{process.Threads.Count}[/]   " +
            $"CPU [bold]{cpuPercent:0}%[/] of one core"));
        var memoryLine = new Markup(string.Create(s_invariant,
            $"memory: working set {workingSet / (1024.0 * 1024.0):0.0} MiB, GC heap {GC.GetTotalMemory(forceFullCollection: false) / (1024.0 * 1024.0):0.0} MiB"));

        var rows = new List<IRenderable> { heading, table, threadsLine, memoryLine };
        if (ratios.Length > 0)
        {
            rows.Add(new Markup("[dim]last second:[/] " + Markup.Escape(ratios)));
        }

        if (server is IConnectionListing listing)
        {
            rows.Add(ConnectionsTable(listing));
        }

        return new Rows(rows);
    }

    /// <summary>The oldest open connections, one row each, for engines that can list them.</summary>
    private static Table ConnectionsTable(IConnectionListing listing)
    {
        IReadOnlyList<ConnectionSnapshot> connections = listing.ListConnections(ConnectionRows);
        int total = listing.ListedConnections;
        var table = new Table().Border(TableBorder.Simple).Expand();
        table.AddColumn("client");
        table.AddColumn("remote");
        table.AddColumn(new TableColumn("bytes in").RightAligned());
        table.AddColumn(new TableColumn("bytes out").RightAligned());
        table.AddColumn("state");
        table.AddColumn(new TableColumn("idle").RightAligned());
        foreach (ConnectionSnapshot connection in connections)
        {
            table.AddRow(
                "#" + connection.Id.ToString(s_invariant),
                Markup.Escape(connection.Remote?.ToString() ?? "?"),
                connection.BytesIn.ToString("N0", s_invariant),
                connection.BytesOut.ToString("N0", s_invariant),
                Describe(connection.Activity),
                connection.IdleFor.TotalSeconds.ToString("0.0", s_invariant) + " s");
        }

        table.Caption(total > connections.Count
            ? string.Create(s_invariant, $"{connections.Count} oldest of {total} connections")
            : string.Create(s_invariant, $"{total} connections"));
        return table;
    }

    /// <summary>A connection's state in words.</summary>
    internal static string Describe(ConnectionActivity activity) => activity switch
    {
        ConnectionActivity.Sending => "sending the echo",
        ConnectionActivity.Finishing => "client done, last echoes",
        ConnectionActivity.Draining => "stopping: FIN sent",
        _ => "waiting for data",
    };

    /// <summary>The model's key counters first (bold), then the always-useful ones, then anything else that moved.</summary>
    private static IEnumerable<EchoCounter> CountersToShow(ModelInfo model, StatisticsSnapshot now)
    {
        var shown = new HashSet<EchoCounter>();
        EchoCounter[] always = [EchoCounter.ConnectionsAccepted, EchoCounter.BytesIn, EchoCounter.BytesOut, EchoCounter.ReceiveCalls, EchoCounter.SendCalls];
        foreach (EchoCounter counter in model.KeyCounters.Concat(always))
        {
            if (counter is not (EchoCounter.ConnectionsActive or EchoCounter.Threads or EchoCounter.PeakThreads) && shown.Add(counter))
            {
                yield return counter;
            }
        }

        foreach ((EchoCounter counter, long _) in now.NonZero())
        {
            if (counter is not (EchoCounter.ConnectionsActive or EchoCounter.PeakConnections or EchoCounter.Threads or EchoCounter.PeakThreads) && shown.Add(counter))
            {
                yield return counter;
            }
        }
    }
}
