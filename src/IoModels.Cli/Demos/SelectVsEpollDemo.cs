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

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["select", "epoll"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo select = RequireModel("select");
        ModelInfo epoll = RequireModel("epoll");
        int[] sizes = Sizes(context);
        int pings = context.Count(500, 20);
        context.Say(Text.Plan(context.Chinese, sizes, pings));

        var numbers = new Dictionary<string, double> { ["round_trips"] = pings };
        for (int i = 0; i < sizes.Length; i++)
        {
            numbers[$"idle_clients_{i}"] = sizes[i];
            Record(numbers, "select", i, await MeasureAsync(context, select, sizes[i], pings, cancellationToken));
            Record(numbers, "epoll", i, await MeasureAsync(context, epoll, sizes[i], pings, cancellationToken));
        }

        // The slopes whatever the verdict: what was measured is said even when it concludes nothing.
        context.Say(Text.Slopes(context.Chinese, SlopePerThousand(numbers, "select_scanned_per_wait"), SlopePerThousand(numbers, "select_cpu_us_per_round_trip"),
            SlopePerThousand(numbers, "epoll_ready_per_wait"), SlopePerThousand(numbers, "epoll_cpu_us_per_round_trip")));

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

        return Judge(numbers, context.Language);
    }

    public string Question(DemoContext context) => Text.Question(context.Chinese, context.Count(FullSizes[^1], MinimumSizes[^1]));

    public string Answer(IReadOnlyDictionary<string, double> n, string language) => Text.Answer(language == "zh", n[$"idle_clients_{FullSizes.Length - 1}"],
        n[$"select_scanned_per_wait_{FullSizes.Length - 1}"], n[$"epoll_ready_per_wait_{FullSizes.Length - 1}"]);

    public IReadOnlyList<string> Verify(int processId, string language) =>
        [DemoVerify.SystemCalls(processId, language == "zh"), DemoVerify.Descriptors(processId, language == "zh")];

    public DemoResult Judge(IReadOnlyDictionary<string, double> numbers, string language = "en")
    {
        bool zh = language == "zh";
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
            new(idle.Zip(idle.Skip(1)).All(p => p.Second > p.First), Text.SizesNotDistinct(zh, idle)),
            new(Enumerable.Range(0, idle.Length).All(i => n[$"select_waits_{i}"] > 0 && n[$"epoll_waits_{i}"] > 0), Text.NeverWaited(zh)),
            new(Enumerable.Range(0, idle.Length).All(i => n[$"select_scanned_per_wait_{i}"] >= idle[i]),
                Text.NotEverySocket(zh, Series(n, "select_scanned_per_wait"), idle)),
            new(selectScanned >= 900, Text.ScanDidNotGrow(zh, selectScanned)),
            new(epollEvents < selectScanned / 100, Text.EventsGrew(zh, epollName, epollEvents, selectScanned)),
            new(n[$"epoll_ready_per_wait_{last}"] < n[$"select_scanned_per_wait_{last}"], Text.NoFewerEvents(zh, epollName, n[$"epoll_ready_per_wait_{last}"])),
        ];
        if (signal)
        {
            checks.Add(new(n["signal_scanned_per_wait"] >= n["signal_idle_clients"],
                Text.SignalNotEverySocket(zh, n["signal_scanned_per_wait"], n["signal_idle_clients"])));
        }

        // CPU is the whole process's (clients included) and a loaded machine blurs it: it is a sentence of the
        // conclusion only when it shows select's cost growing faster, and otherwise reported as not shown.
        bool cpuShown = selectCpu > 0 && selectCpu > 2 * Math.Max(epollCpu, 0) && n[$"select_cpu_us_per_round_trip_{last}"] > n[$"epoll_cpu_us_per_round_trip_{last}"];
        return DemoResult.Judge(n, checks, () =>
            Text.Scans(zh, Series(n, "select_scanned_per_wait"), idle, selectScanned) +
            Text.Events(zh, epollName, Series(n, "epoll_ready_per_wait"), epollEvents) +
            (cpuShown
                ? Text.CpuShown(zh, epollName, selectCpu, epollCpu, n[$"select_cpu_us_per_round_trip_{last}"], n[$"epoll_cpu_us_per_round_trip_{last}"], idle[last])
                : Text.CpuNotShown(zh, epollName, selectCpu, epollCpu)) +
            Text.RoundTrips(zh, epollName, idle[last], n[$"select_round_trip_us_{last}"], n[$"epoll_round_trip_us_{last}"]) +
            (signal ? Text.Signal(zh, n["signal_idle_clients"], n["signal_scanned_per_wait"], n["signal_round_trip_us"]) : string.Empty));
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
                context.Say(Text.DescriptorLimit(context.Chinese, limit, Math.Max(room, 0)));
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
            StatisticsSnapshot before = await DemoLoad.SettledAsync(server, cancellationToken);
            TimeSpan cpuBefore = ProcessCpu();
            var wall = Stopwatch.StartNew();
            for (int i = 0; i < pings; i++)
            {
                await busy.EchoAsync("ping", cancellationToken);
            }

            wall.Stop();
            StatisticsSnapshot after = await DemoLoad.SettledAsync(server, cancellationToken);
            TimeSpan cpu = ProcessCpu() - cpuBefore;
            long waits = after[EchoCounter.Waits] - before[EchoCounter.Waits];
            double PerWait(EchoCounter counter) => waits == 0 ? 0 : (double)(after[counter] - before[counter]) / waits;
            var run = new Run(
                waits,
                PerWait(EchoCounter.SocketsScanned),
                PerWait(EchoCounter.ReadyEvents),
                wall.Elapsed.TotalMicroseconds / pings,
                cpu.TotalMicroseconds / pings);
            context.Say(Text.Measured(context.Chinese, model, after[EchoCounter.ConnectionsActive], pings, wall.Elapsed, run));
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

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "空闲客户端增多时的 select 与 epoll（满规模为 100、1,000、5,000）：每次等待的代价"
            : "select vs epoll as idle clients grow (100, 1,000, 5,000 at full scale): what each wait costs";

        public static string Question(bool zh, int idle) => zh
            ? $"{idle} 个空闲客户端加一个忙碌的客户端。select 每次调用要交给内核检查多少个套接字？epoll_wait 每次返回多少个事件？"
            : $"{idle} idle clients and one busy one. How many sockets does each select call hand the kernel to check? " +
                "How many events does each epoll_wait return?";

        public static string Answer(bool zh, double idle, double scanned, double events) => zh
            ? $"{F(idle, "0")} 个空闲客户端时：select 每次等待扫描 {F(scanned, "0.#")} 个套接字，epoll 每次等待返回 {F(events)} 个事件。"
            : $"At {F(idle, "0")} idle clients: select scanned {F(scanned, "0.#")} sockets per wait, epoll returned {F(events)} events per wait.";

        public static string Plan(bool zh, int[] sizes, int pings) => zh
            ? $"每个服务器依次接入 {string.Join("、", sizes)} 个连上来后一言不发的客户端，外加一个忙碌的客户端；" +
                $"在每种规模下，忙碌的客户端一个接一个地做 {pings} 次往返。"
            : $"Each server gets {string.Join(", then ", sizes)} clients that connect and stay silent, and one client that does " +
                $"{pings} round trips, one after another, at each size.";

        public static string DescriptorLimit(bool zh, long limit, long room) => zh
            ? $"描述符上限（ulimit -n：{limit}）只容得下 {room} 个空闲客户端（在这个进程里，每个客户端两端各占一个套接字），" +
                $"所以最大规模取 {room}。"
            : $"The descriptor limit (ulimit -n: {limit}) leaves room for {room} idle clients, " +
                $"each one a socket at both ends in this process, so the largest size is {room}.";

        public static string Measured(bool zh, ModelInfo model, long connections, int pings, TimeSpan wall, Run run)
        {
            bool scans = model.KeyCounters.Contains(EchoCounter.SocketsScanned);
            return zh
                ? $"  {model.Name}，{connections} 个连接：{pings} 次往返用了 {F(wall.TotalMilliseconds, "0")} ms（每次 {F(run.RoundTripMicroseconds, "0")} µs）；" +
                    $"{run.Waits} 次等待，每次等待{(scans ? $"扫描 {F(run.ScannedPerWait, "0.#")} 个套接字、" : string.Empty)}就绪 {F(run.ReadyPerWait)} 个；" +
                    $"每次往返 {F(run.CpuMicrosecondsPerTrip, "0")} µs CPU。"
                : $"  {model.Name}, {connections} connections: {pings} round trips in {F(wall.TotalMilliseconds, "0")} ms " +
                    $"({F(run.RoundTripMicroseconds, "0")} µs each); {run.Waits} waits, {(scans ? $"{F(run.ScannedPerWait, "0.#")} sockets scanned and " : string.Empty)}" +
                    $"{F(run.ReadyPerWait)} ready per wait; {F(run.CpuMicrosecondsPerTrip, "0")} µs of CPU per round trip.";
        }

        public static string Slopes(bool zh, double selectScanned, double selectCpu, double epollEvents, double epollCpu) => zh
            ? $"空闲客户端每多 1,000 个：select 每次等待扫描的套接字 {Signed(selectScanned, "0")} 个，每次往返的 CPU {Signed(selectCpu)} µs；" +
                $"epoll 每次等待返回的事件 {F(epollEvents, "+0.##;-0.##;+0")} 个，每次往返的 CPU {Signed(epollCpu)} µs。"
            : $"Per 1,000 more idle clients: select {Signed(selectScanned, "0")} sockets scanned per wait, " +
                $"{Signed(selectCpu)} µs of CPU per round trip; epoll {F(epollEvents, "+0.##;-0.##;+0")} events per wait, {Signed(epollCpu)} µs of CPU.";

        public static string SizesNotDistinct(bool zh, double[] idle) => zh
            ? $"规模 {string.Join("、", idle.Select(v => F(v, "0")))} 不是三个不同的规模"
            : $"the sizes {string.Join(", ", idle.Select(v => F(v, "0")))} are not three different sizes";

        public static string NeverWaited(bool zh) => zh
            ? "往返期间有一个服务器一次也没有等待"
            : "a server never waited during the round trips";

        public static string NotEverySocket(bool zh, double[] scanned, double[] idle) => zh
            ? $"空闲客户端为 {string.Join("、", idle.Select(v => F(v, "0")))} 个时，select 每次等待扫描 " +
                $"{string.Join("、", scanned.Select(v => F(v, "0.#")))} 个套接字：没有扫描每一个套接字"
            : $"select scanned {string.Join(", ", scanned.Select(v => F(v, "0.#")))} sockets per wait " +
                $"with {string.Join(", ", idle.Select(v => F(v, "0")))} idle clients: not every socket";

        public static string ScanDidNotGrow(bool zh, double slope) => zh
            ? $"空闲客户端每多 1,000 个，select 每次等待扫描的套接字只多 {F(slope, "0")} 个，而不是 1,000 个左右"
            : $"select's sockets scanned per wait grew by {F(slope, "0")} per 1,000 idle clients, not about 1,000";

        public static string EventsGrew(bool zh, string epollName, double slope, double selectSlope) => zh
            ? $"空闲客户端每多 1,000 个，{epollName} 每次等待的事件多 {F(slope)} 个，并不比 select 的 {F(selectSlope, "0")} 少很多"
            : $"{epollName}'s events per wait grew by {F(slope)} per 1,000 idle clients, not far less than select's {F(selectSlope, "0")}";

        public static string NoFewerEvents(bool zh, string epollName, double events) => zh
            ? $"{epollName} 每次等待返回 {F(events)} 个事件，不比 select 扫描的套接字少"
            : $"{epollName} returned {F(events)} events per wait, no fewer than select scanned";

        public static string SignalNotEverySocket(bool zh, double tried, double idle) => zh
            ? $"有 {idle} 个空闲客户端时，signal 每个信号只试了 {F(tried, "0.#")} 个套接字"
            : $"signal tried {F(tried, "0.#")} sockets per signal with {idle} idle clients";

        public static string Scans(bool zh, double[] scanned, double[] idle, double slope) => zh
            ? $"select 每次等待都把每一个套接字交给内核：空闲客户端为 {F(idle[0], "0")}、{F(idle[1], "0")}、{F(idle[^1], "0")} 个时，" +
                $"每次等待分别扫描 {F(scanned[0], "0")}、{F(scanned[1], "0")}、{F(scanned[^1], "0")} 个套接字，每多 1,000 个空闲客户端 {Signed(slope, "0")} 个。"
            : $"Each wait of select passed every socket to the kernel: {F(scanned[0], "0")}, {F(scanned[1], "0")} and {F(scanned[^1], "0")} " +
                $"sockets scanned per wait with {F(idle[0], "0")}, {F(idle[1], "0")} and {F(idle[^1], "0")} idle clients, {Signed(slope, "0")} per 1,000 idle clients. ";

        public static string Events(bool zh, string epollName, double[] events, double slope) => zh
            ? $"{epollName} 不需要传入列表（列表保存在内核里），每次等待返回 {F(events[0])}、{F(events[1])}、{F(events[^1])} 个事件：" +
                $"每多 1,000 个空闲客户端 {Signed(slope)} 个。"
            : $"{epollName} is passed no list (the kernel keeps it) and returned {F(events[0])}, {F(events[1])} and {F(events[^1])} events per wait: " +
                $"{Signed(slope)} per 1,000 idle clients. ";

        public static string CpuShown(bool zh, string epollName, double selectSlope, double epollSlope, double selectLast, double epollLast, double idleLast) => zh
            ? $"每多 1,000 个空闲客户端，每次往返的 CPU 在 select 下变化 {Signed(selectSlope)} µs，在 {epollName} 下变化 {Signed(epollSlope)} µs" +
                $"（{F(idleLast, "0")} 个时为 {F(selectLast, "0")} µs 对 {F(epollLast, "0")} µs）。"
            : $"CPU per round trip changed by {Signed(selectSlope)} µs per 1,000 idle clients with select and by {Signed(epollSlope)} µs " +
                $"with {epollName} ({F(selectLast, "0")} against {F(epollLast, "0")} µs at {F(idleLast, "0")}). ";

        public static string CpuNotShown(bool zh, string epollName, double selectSlope, double epollSlope) => zh
            ? $"这次运行中，每次往返的 CPU 没有把两者区分开（每多 1,000 个空闲客户端：select {Signed(selectSlope)} µs，" +
                $"{epollName} {Signed(epollSlope)} µs），所以关于 CPU 这次运行不下结论。"
            : $"CPU per round trip did not separate the two in this run ({Signed(selectSlope)} µs per 1,000 idle clients with select, " +
                $"{Signed(epollSlope)} µs with {epollName}), so this run concludes nothing about CPU. ";

        public static string RoundTrips(bool zh, string epollName, double idleLast, double selectUs, double epollUs) => zh
            ? $"{F(idleLast, "0")} 个空闲客户端时，忙碌客户端的一次往返：select {F(selectUs, "0")} µs，{epollName} {F(epollUs, "0")} µs。"
            : $"The busy client's round trip at {F(idleLast, "0")}: {F(selectUs, "0")} µs with select, {F(epollUs, "0")} µs with {epollName}.";

        public static string Signal(bool zh, double idle, double tried, double roundTripUs) => zh
            ? $"信号驱动 IO 在 {idle} 个空闲客户端时，每个信号要试 {F(tried, "0")} 个套接字（SIGIO 是标准（非实时）信号，不指明是哪一个），" +
                $"一次往返 {F(roundTripUs, "0")} µs：付出了 select 的代价，却连 select 返回的那份\"哪些套接字就绪\"的名单都没有。"
            : $" Signal-driven IO, at {idle} idle clients, tried {F(tried, "0")} sockets per signal " +
                $"(plain SIGIO names none) and took {F(roundTripUs, "0")} µs per round trip: select's cost without select's list.";
    }

    private readonly record struct Run(long Waits, double ScannedPerWait, double ReadyPerWait, double RoundTripMicroseconds, double CpuMicrosecondsPerTrip);
}
