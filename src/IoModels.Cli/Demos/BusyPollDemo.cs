using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// (c) The non-blocking loop's cost when nothing happens: with no pause it asks every idle socket
/// again and again and burns a core; a short sleep after an empty sweep saves the CPU and costs latency.
/// </summary>
internal sealed class BusyPollDemo : IDemoScenario
{
    /// <summary>The pause compared with spinning: 10 ms, short enough for interactive use, long enough to idle the core.</summary>
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(10);

    public string Name => "busy-poll";

    public string Title => "nonblocking: the CPU an idle polling loop burns, with and without a poll interval";

    public IReadOnlyList<string> Models { get; } = ["nonblocking"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo model = RequireModel("nonblocking");
        int clients = context.Count(20, 2);
        int pings = context.Count(20, 3);
        TimeSpan window = context.Duration(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(400));
        context.Say($"{clients} clients connect and then say nothing. For {F(window.TotalSeconds)} s we measure this process's CPU, then time {pings} round trips.");

        Run spin = await MeasureAsync(context, model, TimeSpan.Zero, clients, pings, window, cancellationToken);
        context.Say($"No pause: {F(spin.CpuPercent, "0")}% of a core while idle, {F(spin.SweepsPerSecond, "N0")} sweeps/s, {F(spin.WouldBlockPerSecond, "N0")} would-block calls/s; round trip {F(spin.RoundTripMs, "0.###")} ms.");
        Run nap = await MeasureAsync(context, model, s_pollInterval, clients, pings, window, cancellationToken);
        context.Say($"--poll-interval {F(s_pollInterval.TotalMilliseconds)}ms: {F(nap.CpuPercent, "0")}% of a core, {F(nap.SweepsPerSecond, "N0")} sweeps/s, {F(nap.WouldBlockPerSecond, "N0")} would-block calls/s; round trip {F(nap.RoundTripMs, "0.###")} ms.");

        var numbers = new Dictionary<string, double>
        {
            ["clients"] = clients,
            ["spin_cpu_percent"] = spin.CpuPercent,
            ["spin_sweeps_per_s"] = spin.SweepsPerSecond,
            ["spin_would_block_per_s"] = spin.WouldBlockPerSecond,
            ["spin_round_trip_ms"] = spin.RoundTripMs,
            ["sleep_cpu_percent"] = nap.CpuPercent,
            ["sleep_sweeps_per_s"] = nap.SweepsPerSecond,
            ["sleep_would_block_per_s"] = nap.WouldBlockPerSecond,
            ["sleep_round_trip_ms"] = nap.RoundTripMs,
        };
        return Judge(numbers);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n) => DemoResult.Judge(n,
        [
            new(n["spin_would_block_per_s"] > 0, "the spinning loop made no would-block calls"),
            new(n["spin_sweeps_per_s"] > n["sleep_sweeps_per_s"],
                $"the spinning loop swept {F(n["spin_sweeps_per_s"], "N0")} times a second, no more than the sleeping one ({F(n["sleep_sweeps_per_s"], "N0")})"),
            new(n["spin_cpu_percent"] > n["sleep_cpu_percent"],
                $"the spinning loop used {F(n["spin_cpu_percent"], "0")}% of a core, no more than the sleeping one ({F(n["sleep_cpu_percent"], "0")}%)"),
        ],
        () => $"With {n["clients"]} silent clients the spinning loop used {F(n["spin_cpu_percent"], "0")}% of a core for nothing: " +
            $"{F(n["spin_sweeps_per_s"], "N0")} sweeps and {F(n["spin_would_block_per_s"], "N0")} \"would block\" answers a second. " +
            $"Sleeping {F(s_pollInterval.TotalMilliseconds)} ms after an empty sweep cut that to {F(n["sleep_cpu_percent"], "0")}% " +
            $"({F(n["sleep_sweeps_per_s"], "N0")} sweeps/s), and a round trip went from {F(n["spin_round_trip_ms"], "0.###")} ms " +
            $"to {F(n["sleep_round_trip_ms"], "0.###")} ms: polling trades CPU for latency.");

    private static async Task<Run> MeasureAsync(DemoContext context, ModelInfo model, TimeSpan pollInterval, int clientCount, int pings,
        TimeSpan window, CancellationToken cancellationToken)
    {
        await using IEchoServer server = StartServer(model, o => o with { PollInterval = pollInterval });
        var clients = new List<DemoClient>();
        try
        {
            for (int i = 0; i < clientCount; i++)
            {
                clients.Add(await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken); // let the loop admit every client before measuring
            context.Say($"  {model.Name} with poll interval {F(pollInterval.TotalMilliseconds)} ms: {server.Statistics[EchoCounter.ConnectionsActive]} idle clients connected; measuring...");
            StatisticsSnapshot before = server.Statistics.Snapshot();
            TimeSpan cpuBefore = ProcessCpu();
            var wall = Stopwatch.StartNew();
            await Task.Delay(window, cancellationToken);
            TimeSpan cpuAfter = ProcessCpu();
            wall.Stop();
            StatisticsSnapshot after = server.Statistics.Snapshot();

            TimeSpan total = TimeSpan.Zero;
            for (int i = 0; i < pings; i++)
            {
                total += await clients[i % clients.Count].EchoAsync("are you there?", cancellationToken);
            }

            return new Run(
                100.0 * (cpuAfter - cpuBefore).TotalSeconds / wall.Elapsed.TotalSeconds,
                after.RatePerSecond(EchoCounter.Sweeps, before),
                after.RatePerSecond(EchoCounter.WouldBlock, before),
                total.TotalMilliseconds / pings);
        }
        finally
        {
            foreach (DemoClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    private readonly record struct Run(double CpuPercent, double SweepsPerSecond, double WouldBlockPerSecond, double RoundTripMs);
}
