using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// (d) Many idle clients and one busy one, at three sizes: select hands the kernel every socket on
/// every call and scans them all, epoll (kqueue on macOS) returns only the ready ones. Measured at
/// each size: sockets scanned (select) and events returned (epoll) per wait, the busy client's round
/// trip and the CPU per round trip; concluded from the slope of each per 1,000 idle clients, a
/// least-squares line through the three points, since growth cannot be seen at one size.
/// </summary>
internal sealed class SelectVsEpollDemo : IDemoScenario
{
    /// <summary>The idle clients at full scale: 100, 1,000 and 5,000, a factor of 50 from first to last.</summary>
    private static readonly int[] FullSizes = [100, 1000, 5000];

    /// <summary>The fewest at any scale: 4, 10 and 20, still three distinct sizes for a slope.</summary>
    private static readonly int[] MinimumSizes = [4, 10, 20];

    public string Name => "select-vs-epoll";

    public string Title => "select vs epoll as idle clients grow (100, 1,000, 5,000 at full scale): what each wait costs";

    public IReadOnlyList<string> Models { get; } = ["select", "epoll"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo select = RequireModel("select");
        ModelInfo epoll = RequireModel("epoll");
        int[] sizes = Sizes(context);
        int pings = context.Count(500, 20);
        context.Say($"Each server gets {string.Join(", then ", sizes)} clients that connect and stay silent, and one client that does " +
            $"{pings} round trips, one after another, at each size.");

        var numbers = new Dictionary<string, double> { ["round_trips"] = pings };
        for (int i = 0; i < sizes.Length; i++)
        {
            numbers[$"idle_clients_{i}"] = sizes[i];
            Record(numbers, "select", i, await MeasureAsync(context, select, sizes[i], pings, cancellationToken));
            Record(numbers, "epoll", i, await MeasureAsync(context, epoll, sizes[i], pings, cancellationToken));
        }

        // The slopes whatever the verdict: what was measured is said even when it concludes nothing.
        context.Say($"Per 1,000 more idle clients: select {Signed(SlopePerThousand(numbers, "select_scanned_per_wait"), "0")} sockets scanned per wait, " +
            $"{Signed(SlopePerThousand(numbers, "select_cpu_us_per_round_trip"))} µs of CPU per round trip; epoll " +
            $"{Signed(SlopePerThousand(numbers, "epoll_ready_per_wait"), "0.##")} events per wait, {Signed(SlopePerThousand(numbers, "epoll_cpu_us_per_round_trip"))} µs of CPU.");

        // Signal-driven IO, where this OS has it, at the middle size only (its sweep of every socket per
        // signal is the slowest run here): told *that* something is ready, never *what*, so each signal
        // makes it try every socket, like select but without even a list back.
        ModelInfo? signal = ModelRegistry.Find("signal");
        if (signal is { IsSupported: true })
        {
            int middle = sizes[sizes.Length / 2];
            numbers["signal_idle_clients"] = middle;
            Run g = await MeasureAsync(context, signal, middle, pings, cancellationToken);
            numbers["signal_waits"] = g.Waits;
            numbers["signal_scanned_per_wait"] = g.ScannedPerWait;
            numbers["signal_round_trip_us"] = g.RoundTripMicroseconds;
            numbers["signal_cpu_us_per_round_trip"] = g.CpuMicrosecondsPerTrip;
        }

        return Judge(numbers);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> numbers)
    {
        string epollName = ModelRegistry.Find("epoll")?.Mechanism ?? "epoll";
        var n = new Dictionary<string, double>(numbers);
        double[] idle = Series(n, "idle_clients");
        double PerThousand(string key) => n[key + "_per_1000"] = SlopePerThousand(n, key);
        double selectScanned = PerThousand("select_scanned_per_wait");
        double epollEvents = PerThousand("epoll_ready_per_wait");
        double selectCpu = PerThousand("select_cpu_us_per_round_trip");
        double epollCpu = PerThousand("epoll_cpu_us_per_round_trip");
        int last = idle.Length - 1;
        bool signal = n.ContainsKey("signal_scanned_per_wait");

        List<DemoCheck> checks =
        [
            new(idle.Zip(idle.Skip(1)).All(p => p.Second > p.First), $"the sizes {string.Join(", ", idle.Select(v => F(v, "0")))} are not three different sizes"),
            new(Enumerable.Range(0, idle.Length).All(i => n[$"select_waits_{i}"] > 0 && n[$"epoll_waits_{i}"] > 0),
                "a server never waited during the round trips"),
            new(Enumerable.Range(0, idle.Length).All(i => n[$"select_scanned_per_wait_{i}"] >= idle[i]),
                $"select scanned {string.Join(", ", Series(n, "select_scanned_per_wait").Select(v => F(v, "0.#")))} sockets per wait " +
                $"with {string.Join(", ", idle.Select(v => F(v, "0")))} idle clients: not every socket"),
            new(selectScanned >= 900, $"select's sockets scanned per wait grew by {F(selectScanned, "0")} per 1,000 idle clients, not about 1,000"),
            new(epollEvents < selectScanned / 100,
                $"{epollName}'s events per wait grew by {F(epollEvents)} per 1,000 idle clients, not far less than select's {F(selectScanned, "0")}"),
            new(n[$"epoll_ready_per_wait_{last}"] < n[$"select_scanned_per_wait_{last}"],
                $"{epollName} returned {F(n[$"epoll_ready_per_wait_{last}"])} events per wait, no fewer than select scanned"),
        ];
        if (signal)
        {
            checks.Add(new(n["signal_scanned_per_wait"] >= n["signal_idle_clients"],
                $"signal tried {F(n["signal_scanned_per_wait"], "0.#")} sockets per signal with {n["signal_idle_clients"]} idle clients"));
        }

        // CPU is the whole process's (clients included) and a loaded machine blurs it: it is a sentence of the
        // conclusion only when it shows select's cost growing faster, and otherwise reported as not shown.
        bool cpuShown = selectCpu > 0 && selectCpu > 2 * Math.Max(epollCpu, 0) && n[$"select_cpu_us_per_round_trip_{last}"] > n[$"epoll_cpu_us_per_round_trip_{last}"];
        return DemoResult.Judge(n, checks, () =>
            $"Each wait of select passed every socket to the kernel: {F(n["select_scanned_per_wait_0"], "0")}, " +
            $"{F(n["select_scanned_per_wait_1"], "0")} and {F(n[$"select_scanned_per_wait_{last}"], "0")} sockets scanned per wait with " +
            $"{F(idle[0], "0")}, {F(idle[1], "0")} and {F(idle[last], "0")} idle clients, {Signed(selectScanned, "0")} per 1,000 idle clients. " +
            $"{epollName} is passed no list (the kernel keeps it) and returned {F(n["epoll_ready_per_wait_0"])}, {F(n["epoll_ready_per_wait_1"])} and " +
            $"{F(n[$"epoll_ready_per_wait_{last}"])} events per wait: {Signed(epollEvents)} per 1,000 idle clients. " +
            (cpuShown
                ? $"CPU per round trip changed by {Signed(selectCpu)} µs per 1,000 idle clients with select and by {Signed(epollCpu)} µs " +
                    $"with {epollName} ({F(n[$"select_cpu_us_per_round_trip_{last}"], "0")} against {F(n[$"epoll_cpu_us_per_round_trip_{last}"], "0")} µs " +
                    $"at {F(idle[last], "0")}). "
                : $"CPU per round trip did not separate the two in this run ({Signed(selectCpu)} µs per 1,000 idle clients with select, " +
                    $"{Signed(epollCpu)} µs with {epollName}), so this run concludes nothing about CPU. ") +
            $"The busy client's round trip at {F(idle[last], "0")}: {F(n[$"select_round_trip_us_{last}"], "0")} µs with select, " +
            $"{F(n[$"epoll_round_trip_us_{last}"], "0")} µs with {epollName}." +
            (signal
                ? $" Signal-driven IO, at {n["signal_idle_clients"]} idle clients, tried {F(n["signal_scanned_per_wait"], "0")} sockets per signal " +
                    $"(plain SIGIO names none) and took {F(n["signal_round_trip_us"], "0")} µs per round trip: select's cost without select's list."
                : string.Empty));
    }

    /// <summary>The three sizes at this scale, the largest kept within what the descriptor limit leaves (two descriptors a client here).</summary>
    private static int[] Sizes(DemoContext context)
    {
        int[] sizes = [.. FullSizes.Select((full, i) => context.Count(full, MinimumSizes[i]))];
        long limit = DescriptorHeadroom.OpenFilesLimit();
        if (limit > 0)
        {
            // What the runtime holds, the accept loop's reserve, and 16 for the listener, the busy client and thread starts.
            long room = (limit - DescriptorHeadroom.RuntimeNeed - DescriptorHeadroom.ReserveFor(limit) - 16) / 2;
            if (sizes[^1] > room)
            {
                context.Say($"The descriptor limit (ulimit -n: {limit}) leaves room for {Math.Max(room, 0)} idle clients, " +
                    $"each one a socket at both ends in this process, so the largest size is {Math.Max(room, 0)}.");
                sizes[^1] = (int)Math.Max(room, 0);
            }
        }

        return sizes;
    }

    private static void Record(Dictionary<string, double> numbers, string model, int size, Run run)
    {
        numbers[$"{model}_waits_{size}"] = run.Waits;
        numbers[$"{model}_scanned_per_wait_{size}"] = run.ScannedPerWait;
        numbers[$"{model}_ready_per_wait_{size}"] = run.ReadyPerWait;
        numbers[$"{model}_round_trip_us_{size}"] = run.RoundTripMicroseconds;
        numbers[$"{model}_cpu_us_per_round_trip_{size}"] = run.CpuMicrosecondsPerTrip;
    }

    /// <summary>A slope for a sentence: its sign always shown, and a value that rounds to zero shown as 0, never -0.</summary>
    private static string Signed(double value, string digits = "0.#") => F(value, $"+{digits};-{digits};0");

    /// <summary>The measurements of <paramref name="key"/> at the three sizes (<c>KEY_0</c> to <c>KEY_2</c>).</summary>
    private static double[] Series(IReadOnlyDictionary<string, double> n, string key) =>
        [.. Enumerable.Range(0, FullSizes.Length).Select(i => n[$"{key}_{i}"])];

    /// <summary>How much <paramref name="key"/> grows per 1,000 more idle clients: the slope through the three sizes.</summary>
    private static double SlopePerThousand(IReadOnlyDictionary<string, double> n, string key) =>
        Slope(Series(n, "idle_clients"), Series(n, key)) * 1000;

    /// <summary>The least-squares slope of <paramref name="y"/> against <paramref name="x"/>.</summary>
    internal static double Slope(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double meanX = x.Average();
        double meanY = y.Average();
        double covariance = x.Zip(y).Sum(p => (p.First - meanX) * (p.Second - meanY));
        double variance = x.Sum(v => (v - meanX) * (v - meanX));
        return variance == 0 ? 0 : covariance / variance;
    }

    private static async Task<Run> MeasureAsync(DemoContext context, ModelInfo model, int idleCount, int pings, CancellationToken cancellationToken)
    {
        await using IEchoServer server = StartServer(model);
        var idle = new List<DemoClient>();
        try
        {
            for (int i = 0; i < idleCount; i++)
            {
                idle.Add(await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken));
            }

            using DemoClient busy = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
            await busy.EchoAsync("warm up", cancellationToken); // every client is admitted once this one is answered
            StatisticsSnapshot before = await SettledAsync(server, cancellationToken);
            TimeSpan cpuBefore = ProcessCpu();
            var wall = Stopwatch.StartNew();
            for (int i = 0; i < pings; i++)
            {
                await busy.EchoAsync("ping", cancellationToken);
            }

            wall.Stop();
            StatisticsSnapshot after = await SettledAsync(server, cancellationToken);
            TimeSpan cpu = ProcessCpu() - cpuBefore;
            long waits = after[EchoCounter.Waits] - before[EchoCounter.Waits];
            double PerWait(EchoCounter counter) => waits == 0 ? 0 : (double)(after[counter] - before[counter]) / waits;
            var run = new Run(
                waits,
                PerWait(EchoCounter.SocketsScanned),
                PerWait(EchoCounter.ReadyEvents),
                wall.Elapsed.TotalMicroseconds / pings,
                cpu.TotalMicroseconds / pings);
            string scanned = model.KeyCounters.Contains(EchoCounter.SocketsScanned) ? $"{F(run.ScannedPerWait, "0.#")} sockets scanned and " : string.Empty;
            context.Say($"  {model.Name}, {after[EchoCounter.ConnectionsActive]} connections: {pings} round trips in {F(wall.Elapsed.TotalMilliseconds, "0")} ms " +
                $"({F(run.RoundTripMicroseconds, "0")} µs each); {waits} waits, {scanned}{F(run.ReadyPerWait)} ready per wait; " +
                $"{F(run.CpuMicrosecondsPerTrip, "0")} µs of CPU per round trip.");
            busy.Leave();
            return run;
        }
        finally
        {
            foreach (DemoClient client in idle)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>
    /// The server's counters once it is back in its wait. The echo reaches the client while the loop may
    /// still be visiting other sockets (select's and signal's sweeps go on after the busy one), so a
    /// snapshot taken at once splits a sweep across two measurements; signal, counting visits one by
    /// one, then seemed to try fewer sockets than it has. Settled: the same two snapshots 5 ms apart
    /// (the longest sweep here, 5,000 sockets, takes a few ms), or whatever is there after a second.
    /// </summary>
    private static async Task<StatisticsSnapshot> SettledAsync(IEchoServer server, CancellationToken cancellationToken)
    {
        StatisticsSnapshot last = server.Statistics.Snapshot();
        for (int i = 0; i < 200; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
            StatisticsSnapshot now = server.Statistics.Snapshot();
            if (now[EchoCounter.Waits] == last[EchoCounter.Waits] && now[EchoCounter.SocketsScanned] == last[EchoCounter.SocketsScanned])
            {
                return now;
            }

            last = now;
        }

        return last;
    }

    private readonly record struct Run(long Waits, double ScannedPerWait, double ReadyPerWait, double RoundTripMicroseconds, double CpuMicrosecondsPerTrip);
}
