using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// The epoll engine level-triggered (the default) and with --edge-triggered, on the same ping-pong, with a
/// small message and one four times the engine's receive buffer. Level: one recv per event, and the socket is
/// reported again while data is left, so a long message costs an event per buffer. Edge: reported once per
/// arrival, so the loop reads until EAGAIN, which costs one extra, empty read per event. Measured per
/// message from the engine's counters: events, reads, and reads that would have blocked.
/// </summary>
internal sealed class EdgeVsLevelDemo : IDemoScenario
{
    private const int SmallBytes = 32;

    /// <summary>The engine reads at most its buffer (16 KiB by default) per recv; four of them make a long message.</summary>
    private static readonly int LargeBytes = 4 * new EchoServerOptions().BufferSize;

    public string Name => "edge-vs-level";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["epoll"];

    private static int Clients(DemoContext context) => context.Count(20, 4);

    private static int Messages(DemoContext context) => context.Count(200, 20);

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo epoll = RequireModel("epoll");
        int clients = Clients(context);
        int messages = Messages(context);
        bool zh = context.Chinese;
        context.Say(Text.Plan(zh, epoll.Mechanism ?? "epoll", clients, messages, SmallBytes, LargeBytes));
        var n = new Dictionary<string, double> { ["clients"] = clients, ["messages"] = messages, ["large_bytes"] = LargeBytes };
        foreach (bool edge in new[] { false, true })
        {
            foreach ((string size, int bytes) in new[] { ("small", SmallBytes), ("large", LargeBytes) })
            {
                DemoLoad.Run run = await DemoLoad.MeasureAsync(epoll, o => o with { EdgeTriggered = edge }, clients, messages, bytes, cancellationToken);
                string key = $"{(edge ? "edge" : "level")}_{size}";
                n[$"{key}_events_per_message"] = run.PerMessage(EchoCounter.ReadyEvents);
                n[$"{key}_waits_per_message"] = run.PerMessage(EchoCounter.Waits);
                n[$"{key}_reads_per_message"] = run.PerMessage(EchoCounter.ReceiveCalls);
                n[$"{key}_would_block_per_message"] = run.PerMessage(EchoCounter.WouldBlock);
                n[$"{key}_would_block_per_event"] = n[$"{key}_events_per_message"] == 0 ? 0 : n[$"{key}_would_block_per_message"] / n[$"{key}_events_per_message"];
                context.Say(Text.Measured(zh, edge, bytes, key, n));
            }
        }

        return Judge(n, context.Language);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        return DemoResult.Judge(n,
            [
                new(n["level_small_would_block_per_message"] <= 0.1, Text.LevelEmptyReads(zh, n["level_small_would_block_per_message"])),
                new(n["edge_small_would_block_per_event"] >= 0.9, Text.NoDrainRead(zh, n["edge_small_would_block_per_event"])),
                new(n["level_large_events_per_message"] > n["edge_large_events_per_message"],
                    Text.NoFewerEvents(zh, n["edge_large_events_per_message"], n["level_large_events_per_message"])),
            ],
            () => Text.Conclusion(zh, n));
    }

    public string Question(DemoContext context) => Text.Question(context.Chinese, LargeBytes, LargeBytes / 4);

    public string Answer(IReadOnlyDictionary<string, double> n, string language) => Text.Answer(language == "zh", n);

    public IReadOnlyList<string> Verify(int processId, string language) => [DemoVerify.SystemCalls(processId, language == "zh")];

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "epoll 水平触发对比边缘触发（--edge-triggered）：每条消息多少个事件、多少次读"
            : "epoll level-triggered vs --edge-triggered: events and reads per message";

        public static string Question(bool zh, int large, int buffer) => zh
            ? $"一条 {large / 1024} KiB 的消息，引擎每次最多读 {buffer / 1024} KiB。水平触发要几个事件？边缘触发呢？哪一种要多读一次、读到 EAGAIN？"
            : $"A {large / 1024} KiB message, read at most {buffer / 1024} KiB at a time. How many events does level-triggered take? Edge-triggered? " +
                "Which one makes an extra read that ends in EAGAIN?";

        public static string Answer(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"大消息：水平触发每条 {F(n["level_large_events_per_message"])} 个事件，边缘触发 {F(n["edge_large_events_per_message"])} 个；" +
                $"小消息：边缘触发每条读 {F(n["edge_small_reads_per_message"])} 次，其中 {F(n["edge_small_would_block_per_message"])} 次返回 EAGAIN。"
            : $"Large message: level {F(n["level_large_events_per_message"])} events each, edge {F(n["edge_large_events_per_message"])}; " +
                $"small: edge read {F(n["edge_small_reads_per_message"])} times per message, {F(n["edge_small_would_block_per_message"])} of them EAGAIN.";

        public static string Plan(bool zh, string mechanism, int clients, int messages, int small, int large) => zh
            ? $"epoll 引擎（{mechanism}）先水平触发、再边缘触发；{clients} 个客户端各发 {messages} 条消息，先是 {small} 字节，再是 {large / 1024} KiB。"
            : $"The epoll engine ({mechanism}) level-triggered, then edge-triggered; {clients} clients each send {messages} messages, " +
                $"of {small} bytes, then of {large / 1024} KiB.";

        public static string Measured(bool zh, bool edge, int bytes, string key, Dictionary<string, double> n)
        {
            string mode = edge ? (zh ? "边缘触发" : "edge-triggered") : (zh ? "水平触发" : "level-triggered");
            string size = bytes >= 1024 ? $"{bytes / 1024} KiB" : (zh ? $"{bytes} 字节" : $"{bytes} B");
            return zh
                ? $"  {mode}，{size}：每条消息 {F(n[$"{key}_events_per_message"])} 个事件、{F(n[$"{key}_waits_per_message"])} 次等待、" +
                    $"{F(n[$"{key}_reads_per_message"])} 次读，其中 {F(n[$"{key}_would_block_per_message"])} 次返回 EAGAIN。"
                : $"  {mode}, {size}: per message {F(n[$"{key}_events_per_message"])} events, {F(n[$"{key}_waits_per_message"])} waits, " +
                    $"{F(n[$"{key}_reads_per_message"])} reads, {F(n[$"{key}_would_block_per_message"])} of them EAGAIN.";
        }

        public static string LevelEmptyReads(bool zh, double wouldBlock) => zh
            ? $"水平触发每条小消息有 {F(wouldBlock)} 次读返回 EAGAIN：不是每次事件只读一次、每次都有数据"
            : $"level-triggered had {F(wouldBlock)} reads per small message end in EAGAIN: not one read per event, each with data";

        public static string NoDrainRead(bool zh, double perEvent) => zh
            ? $"边缘触发每个事件只有 {F(perEvent)} 次读返回 EAGAIN：没有测出读到 EAGAIN 为止的那次空读"
            : $"edge-triggered had {F(perEvent)} reads ending in EAGAIN per event: the read until EAGAIN was not measured";

        public static string NoFewerEvents(bool zh, double edge, double level) => zh
            ? $"大消息时边缘触发每条 {F(edge)} 个事件，并不比水平触发的 {F(level)} 个少"
            : $"with large messages edge-triggered had {F(edge)} events per message, no fewer than level-triggered's {F(level)}";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"水平触发每次事件只读一次，剩下的数据下一次等待还会报告：一条 {F(n["large_bytes"] / 1024, "0")} KiB 的消息要 " +
                $"{F(n["level_large_events_per_message"])} 个事件、{F(n["level_large_reads_per_message"])} 次读，没有一次返回 EAGAIN。" +
                $"边缘触发只在有新数据到达时报告，所以每个事件里都要一直读到 EAGAIN：小消息时，每个事件平均有 " +
                $"{F(n["edge_small_would_block_per_event"])} 次读返回 EAGAIN，这就是它多出来的那次空读。同样的大消息它只要 {F(n["edge_large_events_per_message"])} 个事件、" +
                $"读 {F(n["edge_large_reads_per_message"])} 次；小消息每条 {F(n["edge_small_events_per_message"])} 个事件、读 " +
                $"{F(n["edge_small_reads_per_message"])} 次：在回环上，客户端的下一条消息常常在循环还没读到 EAGAIN 时就到了，根本不需要新事件。"
            : $"Level-triggered reads once per event and is told again while data is left: a {F(n["large_bytes"] / 1024, "0")} KiB message took " +
                $"{F(n["level_large_events_per_message"])} events and {F(n["level_large_reads_per_message"])} reads, none of them EAGAIN. " +
                $"Edge-triggered is told only when new data arrives, so every event reads until EAGAIN: {F(n["edge_small_would_block_per_event"])} " +
                $"reads per event (small messages) ended in EAGAIN, the extra empty read. The same large message took it " +
                $"{F(n["edge_large_events_per_message"])} events and {F(n["edge_large_reads_per_message"])} reads; a small one " +
                $"{F(n["edge_small_events_per_message"])} events and {F(n["edge_small_reads_per_message"])} reads: on loopback the client's next " +
                "message often arrived while the loop was still reading towards EAGAIN, and needed no event at all.";
    }
}
