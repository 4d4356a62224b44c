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

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["nonblocking"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo model = RequireModel("nonblocking");
        int clients = context.Count(20, 2);
        int pings = context.Count(20, 3);
        TimeSpan window = context.Duration(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(400));
        bool zh = context.Chinese;
        context.Say(Text.Plan(zh, clients, window, pings));

        Run spin = await MeasureAsync(context, model, TimeSpan.Zero, clients, pings, window, cancellationToken);
        context.Say(Text.Measured(zh, null, spin));
        Run nap = await MeasureAsync(context, model, s_pollInterval, clients, pings, window, cancellationToken);
        context.Say(Text.Measured(zh, s_pollInterval, nap));

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
        return Judge(numbers, context.Language);
    }

    public string Question(DemoContext context) => Text.Question(context.Chinese, s_pollInterval);

    public string Answer(IReadOnlyDictionary<string, double> n, string language) =>
        Text.Answer(language == "zh", n["spin_cpu_percent"], n["sleep_cpu_percent"], n["spin_would_block_per_s"], s_pollInterval);

    public IReadOnlyList<string> Verify(int processId, string language) =>
        [DemoVerify.SystemCalls(processId, language == "zh"), DemoVerify.ThreadCpu(processId, language == "zh")];

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        return DemoResult.Judge(n,
            [
                new(n["spin_would_block_per_s"] > 0, Text.NoWouldBlock(zh)),
                new(n["spin_sweeps_per_s"] > n["sleep_sweeps_per_s"], Text.NoMoreSweeps(zh, n["spin_sweeps_per_s"], n["sleep_sweeps_per_s"])),
                new(n["spin_cpu_percent"] > n["sleep_cpu_percent"], Text.NoMoreCpu(zh, n["spin_cpu_percent"], n["sleep_cpu_percent"])),
            ],
            () => Text.Conclusion(zh, n));
    }

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
            context.Say(Text.Measuring(context.Chinese, model.Name, pollInterval, server.Statistics[EchoCounter.ConnectionsActive]));
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

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "nonblocking：空闲的轮询循环烧掉多少 CPU，有无轮询间隔对比"
            : "nonblocking: the CPU an idle polling loop burns, with and without a poll interval";

        public static string Question(bool zh, TimeSpan interval) => zh
            ? $"非阻塞循环，客户端都连着但谁也不发数据：它占用一个核的多少？接近 0%，还是接近 100%？" +
                $"每次空扫之后睡 {F(interval.TotalMilliseconds)} ms 呢？"
            : $"A non-blocking loop, clients connected and nobody sending: how much of a core does it use, about 0% or about 100%? " +
                $"And with a {F(interval.TotalMilliseconds)} ms sleep after each empty sweep?";

        public static string Answer(bool zh, double spin, double sleep, double wouldBlock, TimeSpan interval) => zh
            ? $"一直轮询：一个核的 {F(spin, "0")}%，每秒 {F(wouldBlock, "#,0")} 次 would-block；每次空扫后睡 {F(interval.TotalMilliseconds)} ms：{F(sleep, "0")}%。"
            : $"Spinning: {F(spin, "0")}% of a core, {F(wouldBlock, "#,0")} would-block calls a second; sleeping " +
                $"{F(interval.TotalMilliseconds)} ms after an empty sweep: {F(sleep, "0")}%.";

        public static string Plan(bool zh, int clients, TimeSpan window, int pings) => zh
            ? $"{clients} 个客户端连上来后一言不发。我们先测 {F(window.TotalSeconds)} s 内本进程的 CPU，再给 {pings} 次往返计时。"
            : $"{clients} clients connect and then say nothing. For {F(window.TotalSeconds)} s we measure this process's CPU, then time {pings} round trips.";

        public static string Measuring(bool zh, string model, TimeSpan interval, long active) => zh
            ? $"  {model}，轮询间隔 {F(interval.TotalMilliseconds)} ms：{active} 个空闲客户端已连接；开始测量……"
            : $"  {model} with poll interval {F(interval.TotalMilliseconds)} ms: {active} idle clients connected; measuring...";

        /// <summary>One run's numbers; <paramref name="interval"/> null for the loop that never pauses.</summary>
        public static string Measured(bool zh, TimeSpan? interval, Run run) => zh
            ? (interval is { } i ? $"--poll-interval {F(i.TotalMilliseconds)}ms：" : "不暂停：") +
                $"空闲时占一个核的 {F(run.CpuPercent, "0")}%，每秒 {F(run.SweepsPerSecond, "N0")} 轮扫描、{F(run.WouldBlockPerSecond, "N0")} 次" +
                $"\"本来会阻塞\"的调用（would block）；一次往返 {F(run.RoundTripMs, "0.###")} ms。"
            : (interval is { } j ? $"--poll-interval {F(j.TotalMilliseconds)}ms: " : "No pause: ") +
                $"{F(run.CpuPercent, "0")}% of a core while idle, {F(run.SweepsPerSecond, "N0")} sweeps/s, " +
                $"{F(run.WouldBlockPerSecond, "N0")} would-block calls/s; round trip {F(run.RoundTripMs, "0.###")} ms.";

        public static string NoWouldBlock(bool zh) => zh
            ? "不暂停的循环没有发出任何\"本来会阻塞\"的调用"
            : "the spinning loop made no would-block calls";

        public static string NoMoreSweeps(bool zh, double spin, double sleep) => zh
            ? $"不暂停的循环每秒扫描 {F(spin, "N0")} 轮，并不比会睡眠的循环（{F(sleep, "N0")}）多"
            : $"the spinning loop swept {F(spin, "N0")} times a second, no more than the sleeping one ({F(sleep, "N0")})";

        public static string NoMoreCpu(bool zh, double spin, double sleep) => zh
            ? $"不暂停的循环占一个核的 {F(spin, "0")}%，并不比会睡眠的循环（{F(sleep, "0")}%）多"
            : $"the spinning loop used {F(spin, "0")}% of a core, no more than the sleeping one ({F(sleep, "0")}%)";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"{n["clients"]} 个客户端一言不发，不暂停的循环却白白占了一个核的 {F(n["spin_cpu_percent"], "0")}%：" +
                $"每秒 {F(n["spin_sweeps_per_s"], "N0")} 轮扫描、{F(n["spin_would_block_per_s"], "N0")} 次\"本来会阻塞\"的回答。" +
                $"每轮空扫描后睡 {F(s_pollInterval.TotalMilliseconds)} ms，就降到 {F(n["sleep_cpu_percent"], "0")}%" +
                $"（每秒 {F(n["sleep_sweeps_per_s"], "N0")} 轮），一次往返则从 {F(n["spin_round_trip_ms"], "0.###")} ms " +
                $"变成 {F(n["sleep_round_trip_ms"], "0.###")} ms：轮询是拿 CPU 换延迟。"
            : $"With {n["clients"]} silent clients the spinning loop used {F(n["spin_cpu_percent"], "0")}% of a core for nothing: " +
                $"{F(n["spin_sweeps_per_s"], "N0")} sweeps and {F(n["spin_would_block_per_s"], "N0")} \"would block\" answers a second. " +
                $"Sleeping {F(s_pollInterval.TotalMilliseconds)} ms after an empty sweep cut that to {F(n["sleep_cpu_percent"], "0")}% " +
                $"({F(n["sleep_sweeps_per_s"], "N0")} sweeps/s), and a round trip went from {F(n["spin_round_trip_ms"], "0.###")} ms " +
                $"to {F(n["sleep_round_trip_ms"], "0.###")} ms: polling trades CPU for latency.";
    }

    private readonly record struct Run(double CpuPercent, double SweepsPerSecond, double WouldBlockPerSecond, double RoundTripMs);
}
