using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// (a) One blocking worker, two clients: the worker is stuck serving the first client, so the second
/// one's request sits in the kernel until the first leaves. The wait is measured, not claimed.
/// </summary>
internal sealed class OneWorkerDemo : IDemoScenario
{
    public string Name => "one-worker";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["blocking"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo model = RequireModel("blocking");
        TimeSpan hold = Hold(context);
        await using IEchoServer server = StartServer(model, o => o with { Workers = 1 });
        bool zh = context.Chinese;
        context.Say(Text.Listening(zh, server.LocalEndPoint));

        using DemoClient a = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        TimeSpan aTrip = await a.EchoAsync("hello from a", cancellationToken);
        context.Say(Text.AConnected(zh, aTrip));

        using DemoClient b = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        context.Say(Text.BConnected(zh));
        var bWait = Stopwatch.StartNew();
        await b.SendAsync("hello from b", cancellationToken);
        Task bEcho = b.ReceiveEchoAsync("hello from b", cancellationToken);
        context.Say(Text.BSends(zh, hold));

        await Task.WhenAny(bEcho, Task.Delay(hold, cancellationToken));
        bool servedEarly = bEcho.IsCompleted;
        long acceptsBefore = server.Statistics[EchoCounter.ConnectionsAccepted];
        context.Say(servedEarly ? Text.ServedEarly(zh) : Text.StillWaiting(zh, acceptsBefore, server.Statistics[EchoCounter.Threads]));
        a.Leave();
        context.Say(Text.ALeaves(zh));
        await bEcho;
        bWait.Stop();
        context.Say(Text.BEchoed(zh, bWait.Elapsed));
        b.Leave();

        StatisticsSnapshot stats = server.Statistics.Snapshot();
        await server.StopAsync(cancellationToken);
        var numbers = new Dictionary<string, double>
        {
            ["hold_s"] = hold.TotalSeconds,
            ["a_round_trip_ms"] = aTrip.TotalMilliseconds,
            ["b_wait_s"] = bWait.Elapsed.TotalSeconds,
            ["peak_threads"] = stats[EchoCounter.PeakThreads],
            ["accepted"] = stats[EchoCounter.ConnectionsAccepted],
        };
        return Judge(numbers, context.Language);
    }

    /// <summary>How long A holds the worker: 3 s, long enough to see on a projector; 300 ms at least, far above loopback round trips.</summary>
    private static TimeSpan Hold(DemoContext context) => context.Duration(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(300));

    public string Question(DemoContext context) => Text.Question(context.Chinese, Hold(context));

    public string Answer(IReadOnlyDictionary<string, double> n, string language) => Text.Answer(language == "zh", n["b_wait_s"], n["a_round_trip_ms"]);

    public IReadOnlyList<string> Verify(int processId, string language) => DemoVerify.AcceptQueueAndThreads(processId, language == "zh");

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        return DemoResult.Judge(n,
            [
                new(n["b_wait_s"] >= n["hold_s"] * 0.9, Text.AnsweredEarly(zh, n["b_wait_s"], n["hold_s"])),
                new(n["peak_threads"] == 1, Text.NotOneThread(zh, n["peak_threads"])),
            ],
            () => Text.Conclusion(zh, n["b_wait_s"], n["a_round_trip_ms"], n["hold_s"], n["peak_threads"]));
    }

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "只有一个工作线程的 blocking：第二个客户端要等第一个离开"
            : "blocking with one worker thread: the second client waits until the first leaves";

        public static string Question(bool zh, TimeSpan hold) => zh
            ? $"只有一个工作线程。A 连上后 {F(hold.TotalSeconds)} s 不说话，这时 B 发来一行：B 的回显要等多久？几毫秒，还是整整 {F(hold.TotalSeconds)} s？"
            : $"One worker thread. A connects and says nothing for {F(hold.TotalSeconds)} s; B sends a line meanwhile. How long until B's echo: " +
                $"milliseconds, or the whole {F(hold.TotalSeconds)} s?";

        public static string Answer(bool zh, double wait, double aTripMs) => zh
            ? $"B 等了 {F(wait)} s；A 的回显只用了 {F(aTripMs)} ms。"
            : $"B waited {F(wait)} s; A's echo took {F(aTripMs)} ms.";

        public static string Listening(bool zh, System.Net.IPEndPoint endPoint) => zh
            ? $"一个 --workers 1 的 blocking 服务器在 {endPoint} 上监听：只有一个线程，接受一个客户端后一直服务它，直到它离开。"
            : $"A blocking server with --workers 1 listens on {endPoint}: one thread that accepts a client and serves it until it leaves.";

        public static string AConnected(bool zh, TimeSpan trip) => zh
            ? $"客户端 A 连上来打了个招呼：{F(trip.TotalMilliseconds)} ms 收到回显。现在工作线程阻塞在 A 的 Receive 上。"
            : $"Client A connects and says hello: echoed in {F(trip.TotalMilliseconds)} ms. The worker now sits in Receive for A, blocked.";

        public static string BConnected(bool zh) => zh
            ? "客户端 B 连上来：connect 立即成功，因为握手由内核完成，B 被放进队列等待 Accept。可是没有人调用 Accept。"
            : "Client B connects: connect succeeds at once, because the kernel completes the handshake and queues B for Accept. Nobody calls Accept.";

        public static string BSends(bool zh, TimeSpan hold) => zh
            ? $"B 发出一行。A 保持连接，一言不发，持续 {F(hold.TotalSeconds)} s……"
            : $"B sends its line. A stays connected, silent, for {F(hold.TotalSeconds)} s...";

        public static string ServedEarly(bool zh) => zh
            ? "A 还连着，B 就收到了回答：只有一个工作线程时不应该这样。"
            : "B was answered while A was still connected: that should not happen with one worker.";

        public static string StillWaiting(bool zh, long accepted, long threads) => zh
            ? $"……B 还在等：到目前为止接受的连接 {accepted} 个，引擎线程 {threads} 个。"
            : $"...and B is still waiting: connections accepted so far {accepted}, engine threads {threads}.";

        public static string ALeaves(bool zh) => zh
            ? "A 离开。它的 Receive 返回 0（流结束），工作线程关闭 A，回到 Accept，Accept 立即交给它 B。"
            : "A leaves. Its Receive returns 0 (end of stream), the worker closes A and goes back to Accept, which hands it B at once.";

        public static string BEchoed(bool zh, TimeSpan wait) => zh
            ? $"B 发出后 {F(wait.TotalSeconds)} s，它的回显才到。"
            : $"B's echo arrives {F(wait.TotalSeconds)} s after B sent it.";

        public static string AnsweredEarly(bool zh, double wait, double hold) => zh
            ? $"B 在 {F(wait)} s 后就得到回答，早于 A 在 {F(hold)} s 时离开"
            : $"B was answered after {F(wait)} s, before A left at {F(hold)} s";

        public static string NotOneThread(bool zh, double threads) => zh
            ? $"引擎运行了 {threads} 个线程，不是一个"
            : $"the engine ran {threads} threads, not one";

        public static string Conclusion(bool zh, double wait, double aTripMs, double hold, double threads) => zh
            ? $"只有一个工作线程时，B 为一次回显等了 {F(wait)} s，而 A 的回显只用了 {F(aTripMs)} ms：A 占着唯一线程的那" +
                $" {F(hold)} s 里，B 一直在等（引擎线程峰值：{threads}）。阻塞的线程一次只能服务一个客户端" +
                "（`iomodels demo pool-of-two --lang zh` 测的是两个线程的线程池）。"
            : $"With one worker, B waited {F(wait)} s for an echo that took A {F(aTripMs)} ms: " +
                $"the whole {F(hold)} s that A held the only thread (peak engine threads: {threads}). " +
                "A blocked thread serves one client at a time (`iomodels demo pool-of-two` measures a pool of two).";
    }
}
