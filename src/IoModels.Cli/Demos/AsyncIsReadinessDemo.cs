using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// async/await over .NET sockets on Linux is readiness underneath, io_uring is completion: the same ping-pong
/// through both, read per message. Every message costs the async engine the receive that copies it; a
/// connection that was quiet when it asked first waits with a zero-byte receive (readiness: the runtime's
/// epoll thread learns the socket is readable), and a busy one receives at once and pays a receive that would
/// block when it runs dry, so a ping-pong, quiet between messages, makes between one and two receive calls per
/// message. Each wait that went pending resumes on a thread-pool thread, handed over by the runtime's epoll
/// thread (several at a time when they come together; a wait whose data is already there completes at once,
/// with no hand-over). uring arms one multishot receive per connection before the clock starts; it completes
/// once per message with the data already in a pool buffer, on the loop thread, so its receive requests per
/// message are near zero. Measured: the engines' receive calls, completions and would-blocks per message, and
/// the thread pool's completed work items per message (the clients are blocking threads of their own, so the
/// pool's work is the server's, give or take the demo's own few).
/// </summary>
internal sealed class AsyncIsReadinessDemo : IDemoScenario
{
    /// <summary>32 bytes: a small message, so the calls and hops, not the copying, are what differs.</summary>
    private const int MessageBytes = 32;

    public string Name => "async-is-readiness";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["async", "uring"];

    private static int Clients(DemoContext context) => context.Count(20, 4);

    private static int Messages(DemoContext context) => context.Count(200, 20);

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo async = RequireModel("async");
        ModelInfo uring = RequireModel("uring");
        (int clients, int messages, bool zh) = (Clients(context), Messages(context), context.Chinese);
        Dictionary<string, double> n = await DemoLoad.CompareAsync(context, [async, uring], clients, messages, MessageBytes,
            Text.Plan(zh, clients, messages, MessageBytes),
            [("receives", EchoCounter.ReceiveCalls), ("completions", EchoCounter.Completions), ("would_block", EchoCounter.WouldBlock)],
            (model, figures) => Text.Measured(zh, model, figures), cancellationToken);
        return Judge(n, context.Language);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        return DemoResult.Judge(n,
            [
                DemoLoad.AllCounted(n, Models, MessageBytes, zh),
                // One receive per message copies it; what async makes beyond that is the readiness wait (or a busy
                // receive that would block). 1 to 2 on this ping-pong (1.35 to 2 measured on 2 loaded cores); 1.1 leaves margin.
                new(n["async_receives_per_message"] >= 1.1, Text.NoReadinessWait(zh, n["async_receives_per_message"])),
                // One multishot per connection, armed before the clock: far below one request per message (and so
                // below async's, which is at least one).
                new(n["uring_receives_per_message"] < 0.5, Text.NoMultishot(zh, n["uring_receives_per_message"])),
                new(n["async_pool_items_per_message"] > 2 * n["uring_pool_items_per_message"]
                    && n["async_pool_items_per_message"] - n["uring_pool_items_per_message"] >= 0.02,
                    Text.NoHops(zh, n["async_pool_items_per_message"], n["uring_pool_items_per_message"])),
            ],
            () => Text.Conclusion(zh, n));
    }

    public string Question(DemoContext context) => Text.Question(context.Chinese);

    public string Answer(IReadOnlyDictionary<string, double> n, string language) => Text.Answer(language == "zh", n);

    public IReadOnlyList<string> Verify(int processId, string language) =>
        [DemoVerify.SystemCalls(processId, language == "zh"), DemoVerify.Threads(processId, language == "zh")];

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "async 底下是就绪通知：每条消息的接收次数和线程交接，async 对比 io_uring"
            : "async is readiness underneath: receive calls and thread hops per message, async against io_uring";

        public static string Question(bool zh) => zh
            ? "一问一答时，async 引擎收一条消息要调用几次接收？io_uring 要提交几个接收请求？每条消息有几次从一个线程交给另一个线程？"
            : "In a ping-pong, how many receive calls does the async engine make per message? How many receive requests does io_uring " +
                "submit? How many times per message is the work handed from one thread to another?";

        public static string Answer(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"async 每条消息接收 {F(n["async_receives_per_message"])} 次、线程池工作项 {F(n["async_pool_items_per_message"])} 个；" +
                $"io_uring 接收请求 {F(n["uring_receives_per_message"], "0.###")} 个、线程池工作项 {F(n["uring_pool_items_per_message"])} 个。"
            : $"async: {F(n["async_receives_per_message"])} receive calls and {F(n["async_pool_items_per_message"])} thread-pool work items " +
                $"per message; io_uring: {F(n["uring_receives_per_message"], "0.###")} receive requests and " +
                $"{F(n["uring_pool_items_per_message"])} work items.";

        public static string Plan(bool zh, int clients, int messages, int bytes) => zh
            ? $"{clients} 个客户端，各在自己的阻塞线程上（不占线程池），每个发 {messages} 条 {bytes} 字节的消息，每条等到回显再发下一条；" +
                "先 async，再 io_uring。"
            : $"{clients} clients, each a blocking thread of its own (nothing on the thread pool), each sending {messages} messages of " +
                $"{bytes} bytes and waiting for each echo; async first, then io_uring.";

        public static string Measured(bool zh, string model, Dictionary<string, double> n) => model == "uring"
            ? zh
                ? $"  uring：每条消息 {F(n["uring_receives_per_message"], "0.###")} 个接收请求、{F(n["uring_completions_per_message"])} 次完成、" +
                    $"{F(n["uring_pool_items_per_message"])} 个线程池工作项。"
                : $"  uring: per message {F(n["uring_receives_per_message"], "0.###")} receive requests, " +
                    $"{F(n["uring_completions_per_message"])} completions, {F(n["uring_pool_items_per_message"])} thread-pool work items."
            : zh
                ? $"  {model}：每条消息 {F(n[$"{model}_receives_per_message"])} 次接收调用，其中 {F(n[$"{model}_completions_per_message"])} 次是" +
                    $"完成了的零字节等待、{F(n[$"{model}_would_block_per_message"])} 次本来会阻塞；" +
                    $"{F(n[$"{model}_pool_items_per_message"])} 个线程池工作项。"
                : $"  {model}: per message {F(n[$"{model}_receives_per_message"])} receive calls, of them " +
                    $"{F(n[$"{model}_completions_per_message"])} completed zero-byte waits and {F(n[$"{model}_would_block_per_message"])} " +
                    $"that would block; {F(n[$"{model}_pool_items_per_message"])} thread-pool work items.";

        public static string NoReadinessWait(bool zh, double async) => zh
            ? $"async 每条消息接收 {F(async)} 次，几乎正好一次：没有测出拷贝之外、先等就绪的那次接收"
            : $"async made {F(async)} receive calls per message, hardly more than one: no readiness wait besides the copy measured";

        public static string NoMultishot(bool zh, double uring) => zh
            ? $"io_uring 每条消息提交 {F(uring, "0.###")} 个接收请求，并不远少于一个：没有测出每个连接一个多次触发的接收（multishot）；" +
                "`iomodels models` 会说明这台机器的内核是否支持"
            : $"io_uring submitted {F(uring, "0.###")} receive requests per message, not far fewer than one: no multishot receive per " +
                "connection measured; `iomodels models` says whether this kernel has it";

        public static string NoHops(bool zh, double async, double uring) => zh
            ? $"async 每条消息 {F(async)} 个线程池工作项，io_uring {F(uring)} 个：没有测出线程之间的交接"
            : $"async ran {F(async)} thread-pool work items per message and io_uring {F(uring)}: no hand-over between threads measured";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"async 每条消息调用 {F(n["async_receives_per_message"])} 次接收，多于一次：每条消息都要一次把数据拷进来的接收；" +
                $"发起接收时连接若是安静的，先用零字节的接收等待就绪（每条消息 {F(n["async_completions_per_message"])} 次：" +
                "运行时的 epoll 线程得知套接字可读）；连接若正忙，就立刻接收，读空时多一次本来会阻塞的调用" +
                $"（每条消息 {F(n["async_would_block_per_message"])} 次）。一问一答时客户端要等到回显才发下一条，所以连接常常是安静的。" +
                $"线程池每条消息运行 {F(n["async_pool_items_per_message"])} 个工作项：挂起的等待由运行时的 epoll 线程" +
                "交给线程池线程继续（一起到达的可以合成一个工作项；数据已经在时，等待当场完成，不必交接，所以比消息少）。" +
                $"io_uring 每条消息提交 {F(n["uring_receives_per_message"], "0.###")} 个接收请求：每个连接一个多次触发的接收（multishot），" +
                "计时之前就提交好了，此后每来一条消息完成一次，数据已经在缓冲池的缓冲区里，就在事件循环自己的线程上：" +
                $"线程池工作项 {F(n["uring_pool_items_per_message"])} 个。所以 Linux 上 .NET 的 async 是就绪通知加同步拷贝，不是 POSIX 意义上的异步 IO。"
            : $"async made {F(n["async_receives_per_message"])} receive calls per message, more than one: every message needs the receive " +
                "that copies it, and a connection that was quiet when it asked first waits for readiness with a zero-byte receive " +
                $"({F(n["async_completions_per_message"])} per message: the runtime's epoll thread learns that the socket is readable), while " +
                "a busy one receives at once and pays a call that would block when it runs dry " +
                $"({F(n["async_would_block_per_message"])} per message). In a ping-pong the client waits for each echo before it sends " +
                "again, so the connection is often quiet. The thread pool ran " +
                $"{F(n["async_pool_items_per_message"])} work items per message: waits that went pending, handed by the runtime's epoll thread to " +
                "pool threads to resume (several in one item when they come together; a wait whose data is already there completes at " +
                "once, with no hand-over; hence fewer than messages). " +
                $"io_uring submitted {F(n["uring_receives_per_message"], "0.###")} receive requests per message: one multishot receive per " +
                "connection, armed before the clock started, completing for every message with the data already in a pool buffer, on " +
                $"the loop's own thread: {F(n["uring_pool_items_per_message"])} pool work items per message. .NET's async on Linux is " +
                "readiness plus a synchronous copy, not asynchronous IO in the POSIX sense.";
    }
}
