using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>(b) A pool of two blocking workers and three clients: two are served at once, the third waits for a free worker.</summary>
internal sealed class PoolOfTwoDemo : IDemoScenario
{
    public string Name => "pool-of-two";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["blocking"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo model = RequireModel("blocking");
        TimeSpan hold = Hold(context);
        await using IEchoServer server = StartServer(model, o => o with { Workers = 2 });
        bool zh = context.Chinese;
        context.Say(Text.Listening(zh, server.LocalEndPoint));

        using DemoClient a = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        TimeSpan aTrip = await a.EchoAsync("a here", cancellationToken);
        using DemoClient b = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        TimeSpan bTrip = await b.EchoAsync("b here", cancellationToken);
        context.Say(Text.ABConnected(zh, aTrip, bTrip));

        using DemoClient c = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        var cWait = Stopwatch.StartNew();
        await c.SendAsync("c here", cancellationToken);
        Task cEcho = c.ReceiveEchoAsync("c here", cancellationToken);
        context.Say(Text.CSends(zh, hold));

        await Task.WhenAny(cEcho, Task.Delay(hold, cancellationToken));
        context.Say(cEcho.IsCompleted
            ? Text.ServedEarly(zh)
            : Text.StillWaiting(zh, server.Statistics[EchoCounter.Threads], server.Statistics[EchoCounter.ConnectionsActive]));
        a.Leave();
        context.Say(Text.ALeaves(zh));
        await cEcho;
        cWait.Stop();
        TimeSpan bLater = await b.EchoAsync("b again", cancellationToken);
        context.Say(Text.CEchoed(zh, cWait.Elapsed, bLater));
        b.Leave();
        c.Leave();

        StatisticsSnapshot stats = server.Statistics.Snapshot();
        await server.StopAsync(cancellationToken);
        var numbers = new Dictionary<string, double>
        {
            ["hold_s"] = hold.TotalSeconds,
            ["a_round_trip_ms"] = aTrip.TotalMilliseconds,
            ["b_round_trip_ms"] = bTrip.TotalMilliseconds,
            ["c_wait_s"] = cWait.Elapsed.TotalSeconds,
            ["peak_threads"] = stats[EchoCounter.PeakThreads],
            ["peak_connections"] = stats[EchoCounter.PeakConnections],
        };
        return Judge(numbers, context.Language);
    }

    /// <summary>How long A holds a worker: 3 s, long enough to see on a projector; 300 ms at least, far above loopback round trips.</summary>
    private static TimeSpan Hold(DemoContext context) => context.Duration(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(300));

    public string Question(DemoContext context) => Text.Question(context.Chinese, Hold(context));

    public string Answer(IReadOnlyDictionary<string, double> n, string language) => Text.Answer(language == "zh", n["c_wait_s"], n["peak_threads"]);

    public IReadOnlyList<string> Verify(int processId, string language) => DemoVerify.AcceptQueueAndThreads(processId, language == "zh");

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        return DemoResult.Judge(n,
            [
                new(n["c_wait_s"] >= n["hold_s"] * 0.9, Text.AnsweredEarly(zh, n["c_wait_s"], n["hold_s"])),
                new(n["peak_threads"] == 2, Text.NotTwoThreads(zh, n["peak_threads"])),
                new(n["peak_connections"] == 2, Text.NotTwoConnections(zh, n["peak_connections"])),
            ],
            () => Text.Conclusion(zh, n));
    }

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "两个线程的线程池、三个客户端的 blocking：第三个要等有工作线程空出来"
            : "blocking with a pool of two threads and three clients: the third waits for a free worker";

        public static string Question(bool zh, TimeSpan hold) => zh
            ? $"两个工作线程的线程池，A 和 B 都连着，第三个客户端 C 发来一行，A 还要占着线程 {F(hold.TotalSeconds)} s：C 要等多久？"
            : $"A pool of two worker threads; A and B are connected; C sends a line while A keeps its worker for {F(hold.TotalSeconds)} s. " +
                "How long does C wait?";

        public static string Answer(bool zh, double wait, double threads) => zh
            ? $"C 等了 {F(wait)} s；引擎线程峰值 {threads} 个。"
            : $"C waited {F(wait)} s; peak engine threads: {threads}.";

        public static string Listening(bool zh, System.Net.IPEndPoint endPoint) => zh
            ? $"一个 --workers 2 的 blocking 服务器在 {endPoint} 上监听：两个线程，每个一次服务一个客户端。"
            : $"A blocking server with --workers 2 listens on {endPoint}: two threads, each serving one client at a time.";

        public static string ABConnected(bool zh, TimeSpan a, TimeSpan b) => zh
            ? $"A 和 B 连上来，分别在 {F(a.TotalMilliseconds)} ms 和 {F(b.TotalMilliseconds)} ms 内收到回显：每人占一个工作线程，线程阻塞在各自的 Receive 上。"
            : $"A and B connect and are echoed in {F(a.TotalMilliseconds)} ms and {F(b.TotalMilliseconds)} ms: each has a worker, blocked in Receive for it.";

        public static string CSends(bool zh, TimeSpan hold) => zh
            ? $"C 连上来并发出一行。两个工作线程都被占着，C 只能在 accept 队列里等。A 和 B 保持连接 {F(hold.TotalSeconds)} s。"
            : $"C connects and sends. Both workers are taken; C waits in the accept queue. A and B stay for {F(hold.TotalSeconds)} s.";

        public static string ServedEarly(bool zh) => zh
            ? "两个工作线程都忙着，C 却收到了回答：两个线程的线程池不应该这样。"
            : "C was answered while both workers were busy: that should not happen with a pool of two.";

        public static string StillWaiting(bool zh, long threads, long active) => zh
            ? $"C 还在等；引擎线程 {threads} 个，正在服务的连接 {active} 个。"
            : $"C is still waiting; engine threads: {threads}, connections served now: {active}.";

        public static string ALeaves(bool zh) => zh
            ? "A 离开；它的工作线程空了出来，接受 C 并服务它。"
            : "A leaves; its worker is free, accepts C and serves it.";

        public static string CEchoed(bool zh, TimeSpan wait, TimeSpan bLater) => zh
            ? $"C 发出后 {F(wait.TotalSeconds)} s 才收到回显；B 仍有自己的工作线程，回显只用 {F(bLater.TotalMilliseconds)} ms。"
            : $"C's echo came {F(wait.TotalSeconds)} s after C sent it; B, still on its own worker, is echoed in {F(bLater.TotalMilliseconds)} ms.";

        public static string AnsweredEarly(bool zh, double wait, double hold) => zh
            ? $"C 在 {F(wait)} s 后就得到回答，早于 A 在 {F(hold)} s 时离开"
            : $"C was answered after {F(wait)} s, before A left at {F(hold)} s";

        public static string NotTwoThreads(bool zh, double threads) => zh
            ? $"引擎运行了 {threads} 个线程，不是两个"
            : $"the engine ran {threads} threads, not two";

        public static string NotTwoConnections(bool zh, double connections) => zh
            ? $"引擎同时服务了 {connections} 个连接，不是两个"
            : $"the engine served {connections} connections at once, not two";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"两个工作线程同时服务 A 和 B（{F(n["a_round_trip_ms"])} ms 和 {F(n["b_round_trip_ms"])} ms），" +
                $"C 却等了 {F(n["c_wait_s"])} s，直到 A 在 {F(n["hold_s"])} s 后离开。" +
                $"引擎线程峰值 {n["peak_threads"]}，同时服务的连接峰值 {n["peak_connections"]}：线程池限制了线程数，也就限制了能同时服务的客户端数。"
            : $"Two workers served A and B at once ({F(n["a_round_trip_ms"])} ms and {F(n["b_round_trip_ms"])} ms), " +
                $"but C waited {F(n["c_wait_s"])} s, until A left after {F(n["hold_s"])} s. " +
                $"Peak engine threads {n["peak_threads"]}, peak connections served {n["peak_connections"]}: a pool caps threads, and so caps the clients served at once.";
    }
}
