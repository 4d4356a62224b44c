using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// The same ping-pong through epoll and io_uring, read from the engines' own counters: epoll waits, then
/// makes a recv and a send system call per message; io_uring arms one multishot receive per connection
/// (before the timed messages), which completes once per message into a pool buffer, puts each echo in
/// the ring as a send request, and makes one io_uring_enter for a batch of requests. Measured per message:
/// waits, receive calls (io_uring: receive requests submitted), send calls, requests submitted,
/// completions, the system calls those add up to, and the requests each io_uring_enter carried.
/// </summary>
internal sealed class UringVsEpollDemo : IDemoScenario
{
    /// <summary>32 bytes: a small message, so the count of calls, not the copying, is what differs.</summary>
    private const int MessageBytes = 32;

    public string Name => "uring-vs-epoll";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["epoll", "uring"];

    private static int Clients(DemoContext context) => context.Count(50, 4);

    private static int Messages(DemoContext context) => context.Count(200, 20);

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo epoll = RequireModel("epoll");
        ModelInfo uring = RequireModel("uring");
        (int clients, int messages, bool zh) = (Clients(context), Messages(context), context.Chinese);
        Dictionary<string, double> n = await DemoLoad.CompareAsync(context, [epoll, uring], clients, messages, MessageBytes,
            Text.Plan(zh, clients, messages, MessageBytes),
            [("waits", EchoCounter.Waits), ("receives", EchoCounter.ReceiveCalls), ("sends", EchoCounter.SendCalls),
                ("submissions", EchoCounter.Submissions), ("completions", EchoCounter.Completions)],
            (model, figures) => Text.Measured(zh, model, figures), cancellationToken);

        // epoll's receives and sends are system calls of their own; uring's ride inside its io_uring_enter.
        n["epoll_syscalls_per_message"] = n["epoll_waits_per_message"] + n["epoll_receives_per_message"] + n["epoll_sends_per_message"];
        n["uring_syscalls_per_message"] = n["uring_waits_per_message"];
        return Judge(n, context.Language);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        return DemoResult.Judge(n,
            [
                DemoLoad.AllCounted(n, Models, MessageBytes, zh),
                // A ping-pong message is one recv for epoll, exactly; for io_uring a multishot armed once per
                // connection serves them all, so its receive requests stay far below one per message (a kernel
                // without multishot receive posts one per message: no conclusion).
                new(n["epoll_receives_per_message"] >= 1 && n["uring_receives_per_message"] < 0.5,
                    Text.NoMultishot(zh, n["epoll_receives_per_message"], n["uring_receives_per_message"])),
                new(n["uring_syscalls_per_message"] < n["epoll_syscalls_per_message"],
                    Text.NoFewerCalls(zh, n["uring_syscalls_per_message"], n["epoll_syscalls_per_message"])),
            ],
            () => Text.Conclusion(zh, n));
    }

    public string Question(DemoContext context) => Text.Question(context.Chinese, Clients(context));

    public string Answer(IReadOnlyDictionary<string, double> n, string language) =>
        Text.Answer(language == "zh", n["epoll_syscalls_per_message"], n["uring_syscalls_per_message"], n["uring_receives_per_message"],
            n["uring_requests_per_wait"]);

    public IReadOnlyList<string> Verify(int processId, string language) => [DemoVerify.SystemCalls(processId, language == "zh")];

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "同样的回显，epoll 对比 io_uring：每条消息多少次系统调用、多少个接收请求，每次 io_uring_enter 带多少个请求"
            : "the same echo through epoll and io_uring: system calls and receive requests per message, requests per io_uring_enter";

        public static string Question(bool zh, int clients) => zh
            ? $"{clients} 个客户端同时一问一答。epoll 每条消息要几次系统调用？io_uring 呢？io_uring 每条消息要提交几个接收请求？"
            : $"{clients} clients, each sending a message and waiting for its echo. How many system calls per message does epoll make? " +
                "And io_uring? How many receive requests per message does io_uring submit?";

        public static string Answer(bool zh, double epoll, double uring, double receives, double perEnter) => zh
            ? $"epoll 每条消息 {F(epoll)} 次系统调用，io_uring {F(uring)} 次（每次 io_uring_enter 带 {F(perEnter)} 个请求）；" +
                $"io_uring 每条消息 {F(receives, "0.###")} 个接收请求。"
            : $"epoll {F(epoll)} system calls per message, io_uring {F(uring)} (each io_uring_enter carried {F(perEnter)} requests); " +
                $"io_uring submitted {F(receives, "0.###")} receive requests per message.";

        public static string Plan(bool zh, int clients, int messages, int bytes) => zh
            ? $"{clients} 个客户端，各在自己的线程上，每个发 {messages} 条 {bytes} 字节的消息，每条等到完整回显再发下一条；先 epoll，再 io_uring。"
            : $"{clients} clients, each on a thread of its own, each sending {messages} messages of {bytes} bytes and waiting for each echo; " +
                "epoll first, then io_uring.";

        public static string Measured(bool zh, string model, Dictionary<string, double> n) => model == "uring"
            ? zh
                ? $"  uring，每条消息：io_uring_enter {F(n["uring_waits_per_message"])} 次，接收请求 {F(n["uring_receives_per_message"], "0.###")} 个，" +
                    $"发送请求 {F(n["uring_sends_per_message"])} 个，一共提交 {F(n["uring_submissions_per_message"])} 个请求，" +
                    $"收到 {F(n["uring_completions_per_message"])} 个完成；平均每次 io_uring_enter 提交 {F(n["uring_requests_per_wait"])} 个请求。"
                : $"  uring, per message: io_uring_enter {F(n["uring_waits_per_message"])}, receive requests " +
                    $"{F(n["uring_receives_per_message"], "0.###")}, send requests {F(n["uring_sends_per_message"])}, requests submitted in all " +
                    $"{F(n["uring_submissions_per_message"])}, completions {F(n["uring_completions_per_message"])}; requests submitted per " +
                    $"io_uring_enter {F(n["uring_requests_per_wait"])}."
            : zh
                ? $"  {model}，每条消息：epoll_wait {F(n[$"{model}_waits_per_message"])} 次，recv {F(n[$"{model}_receives_per_message"])} 次，" +
                    $"send {F(n[$"{model}_sends_per_message"])} 次。"
                : $"  {model}, per message: epoll_wait {F(n[$"{model}_waits_per_message"])}, recv {F(n[$"{model}_receives_per_message"])}, " +
                    $"send {F(n[$"{model}_sends_per_message"])}.";

        public static string NoMultishot(bool zh, double epoll, double uring) => zh
            ? $"epoll 每条消息 {F(epoll)} 次 recv（应当正好一次），io_uring 每条消息 {F(uring, "0.###")} 个接收请求（应当远少于一个）：" +
                "没有测出一个多次触发的接收（multishot）服务许多条消息；`iomodels models` 会说明这台机器的内核是否支持"
            : $"epoll made {F(epoll)} recv calls per message (one expected) and io_uring submitted {F(uring, "0.###")} receive requests " +
                "per message (far fewer than one expected): no multishot receive serving many messages was measured; " +
                "`iomodels models` says whether this kernel has it";

        public static string NoFewerCalls(bool zh, double uring, double epoll) => zh
            ? $"io_uring 每条消息 {F(uring)} 次系统调用，并不比 epoll 的 {F(epoll)} 次少"
            : $"io_uring made {F(uring)} system calls per message, no fewer than epoll's {F(epoll)}";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n)
        {
            double perEnter = n["uring_requests_per_wait"];
            string batching = perEnter >= 1.5
                ? zh ? $"一次 io_uring_enter 平均带 {F(perEnter)} 个请求，这就是批处理：一次进内核，办好几件事。"
                    : $"Each io_uring_enter carried {F(perEnter)} requests on average: batching, many requests for one entry into the kernel. "
                : zh ? $"这次运行里每次 io_uring_enter 平均只带 {F(perEnter)} 个请求，几乎没有测出批处理。"
                    : $"In this run each io_uring_enter carried {F(perEnter)} requests on average: hardly any batching was measured. ";
            return zh
                ? $"epoll 每条消息：{F(n["epoll_waits_per_message"])} 次 epoll_wait、{F(n["epoll_receives_per_message"])} 次 recv、" +
                    $"{F(n["epoll_sends_per_message"])} 次 send，共 {F(n["epoll_syscalls_per_message"])} 次系统调用（引擎计数的部分；" +
                    $"偶尔切换 EPOLLOUT 的 epoll_ctl 不在其中）。io_uring 每条消息只有 {F(n["uring_syscalls_per_message"])} 次 io_uring_enter，" +
                    $"自己一次 recv 也不调用。每条消息提交 {F(n["uring_receives_per_message"], "0.###")} 个接收请求：每个连接只有一个多次触发的接收（multishot），" +
                    $"在计时之前就提交好了，此后每来一条消息就完成一次，数据已经在缓冲池的缓冲区里（每条消息 {F(n["uring_completions_per_message"])} 个完成，" +
                    $"接收的和发送的各算一个）。每条消息提交的 {F(n["uring_submissions_per_message"])} 个请求里，" +
                    $"{F(n["uring_sends_per_message"])} 个是回显的发送请求；它们放在环里，不是单独的系统调用。" + batching
                : $"Per message, epoll made {F(n["epoll_waits_per_message"])} epoll_wait, {F(n["epoll_receives_per_message"])} recv and " +
                    $"{F(n["epoll_sends_per_message"])} send calls: {F(n["epoll_syscalls_per_message"])} system calls (those the engine counts; " +
                    $"the occasional epoll_ctl that toggles EPOLLOUT is not among them). io_uring made {F(n["uring_syscalls_per_message"])} " +
                    $"io_uring_enter calls per message and no recv of its own. It submitted {F(n["uring_receives_per_message"], "0.###")} receive " +
                    "requests per message: one multishot receive per connection, armed before the clock started, completed once for every " +
                    $"message with the data already in a pool buffer ({F(n["uring_completions_per_message"])} completions per message, the " +
                    $"receive's and the send's). Of the {F(n["uring_submissions_per_message"])} requests it submitted per message, " +
                    $"{F(n["uring_sends_per_message"])} were the echoes' sends; they went through the ring, not as system calls of their own. " +
                    batching.TrimEnd();
        }
    }
}
