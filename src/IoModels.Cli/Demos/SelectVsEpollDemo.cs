using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// (d) Many idle clients and one busy one: select hands the kernel every socket on every call and
/// scans them all, epoll (kqueue on macOS) returns only the ready ones. Measured: sockets passed and
/// events returned per wait, the busy client's round trip, CPU per round trip.
/// </summary>
internal sealed class SelectVsEpollDemo : IDemoScenario
{
    public string Name => "select-vs-epoll";

    public string Title => "select vs epoll with 1,000 idle clients: the cost of every wait";

    public IReadOnlyList<string> Models { get; } = ["select", "epoll"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo select = RequireModel("select");
        ModelInfo epoll = RequireModel("epoll");
        int idle = context.Count(1000, 10);
        int pings = context.Count(500, 20);
        context.Say($"Each server gets {idle} clients that connect and stay silent, and one client that does {pings} round trips, one after another.");

        Run s = await MeasureAsync(context, select, idle, pings, cancellationToken);
        Run e = await MeasureAsync(context, epoll, idle, pings, cancellationToken);

        // Signal-driven IO, where this OS has it: told *that* something is ready, never *what*,
        // so each signal makes it try every socket, like select but without even a list back.
        ModelInfo? signal = ModelRegistry.Find("signal");
        Run? g = signal is { IsSupported: true } ? await MeasureAsync(context, signal, idle, pings, cancellationToken) : null;

        var numbers = new Dictionary<string, double>
        {
            ["idle_clients"] = idle,
            ["round_trips"] = pings,
            ["select_waits"] = s.Waits,
            ["select_scanned_per_wait"] = s.ScannedPerWait,
            ["select_ready_per_wait"] = s.ReadyPerWait,
            ["select_round_trip_us"] = s.RoundTripMicroseconds,
            ["select_cpu_us_per_round_trip"] = s.CpuMicrosecondsPerTrip,
            ["epoll_waits"] = e.Waits,
            ["epoll_ready_per_wait"] = e.ReadyPerWait,
            ["epoll_round_trip_us"] = e.RoundTripMicroseconds,
            ["epoll_cpu_us_per_round_trip"] = e.CpuMicrosecondsPerTrip,
        };
        if (g is { } signalRun)
        {
            numbers["signal_waits"] = signalRun.Waits;
            numbers["signal_scanned_per_wait"] = signalRun.ScannedPerWait;
            numbers["signal_round_trip_us"] = signalRun.RoundTripMicroseconds;
            numbers["signal_cpu_us_per_round_trip"] = signalRun.CpuMicrosecondsPerTrip;
        }

        return Judge(numbers);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n)
    {
        string epollName = ModelRegistry.Find("epoll")?.Mechanism ?? "epoll";
        double idle = n["idle_clients"];
        bool signal = n.ContainsKey("signal_scanned_per_wait");
        List<DemoCheck> checks =
        [
            new(n["select_waits"] > 0 && n["epoll_waits"] > 0, "a server never waited during the round trips"),
            new(n["select_scanned_per_wait"] >= idle, $"select scanned {F(n["select_scanned_per_wait"], "0.#")} sockets per wait with {idle} idle clients"),
            new(n["epoll_ready_per_wait"] < n["select_scanned_per_wait"],
                $"{epollName} returned {F(n["epoll_ready_per_wait"])} events per wait, no fewer than select scanned ({F(n["select_scanned_per_wait"], "0.#")})"),
        ];
        if (signal)
        {
            checks.Add(new(n["signal_scanned_per_wait"] >= idle, $"signal tried {F(n["signal_scanned_per_wait"], "0.#")} sockets per signal with {idle} idle clients"));
        }

        return DemoResult.Judge(n, checks, () =>
            $"With {idle} idle clients, every select wait passed {F(n["select_scanned_per_wait"], "0")} sockets to the kernel to find {F(n["select_ready_per_wait"])} ready; " +
            $"{epollName} is passed no list (the kernel keeps it) and returned {F(n["epoll_ready_per_wait"])} events per wait. " +
            $"The busy client's round trip: {F(n["select_round_trip_us"], "0")} µs with select, {F(n["epoll_round_trip_us"], "0")} µs with {epollName}; " +
            $"CPU per round trip {F(n["select_cpu_us_per_round_trip"], "0")} µs vs {F(n["epoll_cpu_us_per_round_trip"], "0")} µs. " +
            $"At this one size, select scanned every socket it watched, {epollName} returned only the ready ones." +
            (signal
                ? $" Signal-driven IO tried {F(n["signal_scanned_per_wait"], "0")} sockets per signal (plain SIGIO names none) and took " +
                    $"{F(n["signal_round_trip_us"], "0")} µs per round trip: select's cost without select's list."
                : string.Empty));
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
            context.Say($"  {model.Name}: {server.Statistics[EchoCounter.ConnectionsActive]} connections; the busy client starts.");
            StatisticsSnapshot before = server.Statistics.Snapshot();
            TimeSpan cpuBefore = ProcessCpu();
            var wall = Stopwatch.StartNew();
            for (int i = 0; i < pings; i++)
            {
                await busy.EchoAsync("ping", cancellationToken);
            }

            wall.Stop();
            TimeSpan cpu = ProcessCpu() - cpuBefore;
            StatisticsSnapshot after = server.Statistics.Snapshot();
            long waits = after[EchoCounter.Waits] - before[EchoCounter.Waits];
            double PerWait(EchoCounter counter) => waits == 0 ? 0 : (double)(after[counter] - before[counter]) / waits;
            var run = new Run(
                waits,
                PerWait(EchoCounter.SocketsScanned),
                PerWait(EchoCounter.ReadyEvents),
                wall.Elapsed.TotalMicroseconds / pings,
                cpu.TotalMicroseconds / pings);
            string scanned = model.KeyCounters.Contains(EchoCounter.SocketsScanned) ? $"{F(run.ScannedPerWait, "0.#")} sockets scanned and " : string.Empty;
            context.Say($"  {model.Name}: {pings} round trips in {F(wall.Elapsed.TotalMilliseconds, "0")} ms ({F(run.RoundTripMicroseconds, "0")} µs each); " +
                $"{waits} waits, {scanned}{F(run.ReadyPerWait)} ready per wait; " +
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

    private readonly record struct Run(long Waits, double ScannedPerWait, double ReadyPerWait, double RoundTripMicroseconds, double CpuMicrosecondsPerTrip);
}
