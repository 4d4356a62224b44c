using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// (e) 2,000 connected clients on thread-per-connection blocking, then on async: engine threads,
/// process threads, and the memory each way costs.
/// </summary>
internal sealed class ThreadsVsAsyncDemo : IDemoScenario
{
    /// <summary>Clients connecting at once: 100 keeps the accept queue far below the backlog while staying quick.</summary>
    private const int ConnectBatch = 100;

    public string Name => "threads-vs-async";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["blocking", "async"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo blocking = RequireModel("blocking");
        ModelInfo async = RequireModel("async");
        int clients = Clients(context);
        context.Say(Text.Plan(context.Chinese, clients));

        // Async first: the blocking run leaves a grown thread pool and freed stacks behind that would blur its baseline.
        Run a = await MeasureAsync(context, async, clients, cancellationToken);
        Run b = await MeasureAsync(context, blocking, clients, cancellationToken);

        var numbers = new Dictionary<string, double>
        {
            ["clients"] = clients,
            ["blocking_engine_threads"] = b.EngineThreads,
            ["blocking_process_threads_added"] = b.ProcessThreadsAdded,
            ["blocking_working_set_added_mib"] = b.WorkingSetAddedMiB,
            ["blocking_managed_heap_added_mib"] = b.HeapAddedMiB,
            ["blocking_connect_s"] = b.ConnectSeconds,
            ["async_engine_threads"] = a.EngineThreads,
            ["async_process_threads_added"] = a.ProcessThreadsAdded,
            ["async_working_set_added_mib"] = a.WorkingSetAddedMiB,
            ["async_managed_heap_added_mib"] = a.HeapAddedMiB,
            ["async_connect_s"] = a.ConnectSeconds,
        };
        return Judge(numbers, context.Language);
    }

    private static int Clients(DemoContext context) => context.Count(2000, 10);

    public string Question(DemoContext context) => Text.Question(context.Chinese, Clients(context));

    public string Answer(IReadOnlyDictionary<string, double> n, string language) =>
        Text.Answer(language == "zh", n);

    public IReadOnlyList<string> Verify(int processId, string language) =>
        [DemoVerify.Threads(processId, language == "zh"), DemoVerify.ThreadCpu(processId, language == "zh")];

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        double clients = n["clients"];
        return DemoResult.Judge(n,
            [
                new(n["blocking_engine_threads"] >= clients, Text.Threads(zh, "blocking", n["blocking_engine_threads"], clients)),
                new(n["async_engine_threads"] < clients, Text.Threads(zh, "async", n["async_engine_threads"], clients)),
            ],
            () => Text.Conclusion(zh, n));
    }

    private static async Task<Run> MeasureAsync(DemoContext context, ModelInfo model, int count, CancellationToken cancellationToken)
    {
        double heapBefore = ManagedHeapMiB();
        double workingSetBefore = WorkingSetMiB();
        int threadsBefore = ProcessThreads();
        await using IEchoServer server = StartServer(model);
        var clients = new DemoClient[count];
        int connected = 0;
        try
        {
            var clock = Stopwatch.StartNew();
            while (connected < count)
            {
                int batch = Math.Min(ConnectBatch, count - connected);
                Task<DemoClient>[] connects = new Task<DemoClient>[batch];
                for (int i = 0; i < batch; i++)
                {
                    connects[i] = ConnectAndEchoAsync(server, cancellationToken);
                }

                foreach (DemoClient client in await Task.WhenAll(connects))
                {
                    clients[connected++] = client;
                }
            }

            clock.Stop();
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken); // let the counters and the OS's thread list settle
            var run = new Run(
                server.Statistics[EchoCounter.Threads],
                ProcessThreads() - threadsBefore,
                WorkingSetMiB() - workingSetBefore,
                ManagedHeapMiB() - heapBefore,
                clock.Elapsed.TotalSeconds);
            context.Say(Text.Measured(context.Chinese, model.Name, count, run));
            return run;
        }
        finally
        {
            for (int i = 0; i < connected; i++)
            {
                clients[i].Dispose();
            }

            await server.StopAsync(cancellationToken);
        }
    }

    private static string Signed(double value, string format = "+0.0;-0.0;0") => F(value, format);

    private static string Signed(int value) => F(value, "+0;-0;0");

    private static async Task<DemoClient> ConnectAndEchoAsync(IEchoServer server, CancellationToken cancellationToken)
    {
        DemoClient client = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        try
        {
            await client.EchoAsync("hi", cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "2,000 个客户端：每连接一个线程（blocking）对比 async，线程和内存"
            : "2,000 clients: thread per connection (blocking) vs async, threads and memory";

        public static string Question(bool zh, int clients) => zh
            ? $"{clients} 个客户端连着不说话。每连接一个线程的服务器要几个线程？async 服务器呢？"
            : $"{clients} clients connected and silent. How many threads does thread per connection need? And async?";

        public static string Answer(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"{n["clients"]} 个客户端：blocking 引擎线程 {n["blocking_engine_threads"]} 个（进程线程 {Signed(n["blocking_process_threads_added"], "+0;-0;0")}）；" +
                $"async 自己的引擎线程 {n["async_engine_threads"]} 个（进程线程 {Signed(n["async_process_threads_added"], "+0;-0;0")}：线程池和运行时的线程）。"
            : $"At {n["clients"]} clients: blocking ran {n["blocking_engine_threads"]} engine threads (process threads " +
                $"{Signed(n["blocking_process_threads_added"], "+0;-0;0")}); async ran {n["async_engine_threads"]} of its own (process threads " +
                $"{Signed(n["async_process_threads_added"], "+0;-0;0")}: thread-pool and runtime threads).";

        public static string Plan(bool zh, int clients) => zh
            ? $"{clients} 个客户端连上来，每个收到一次回显，然后全部保持连接、一言不发，我们来清点。"
            : $"{clients} clients connect, each is echoed once, then all stay connected and silent while we count.";

        public static string Measured(bool zh, string model, int count, Run run) => zh
            ? $"  {model}：{count} 个客户端连接并收到回显，用时 {F(run.ConnectSeconds)} s；引擎线程 {run.EngineThreads} 个，" +
                $"进程线程 {Signed(run.ProcessThreadsAdded)}，工作集 {Signed(run.WorkingSetAddedMiB)} MiB，托管堆 {Signed(run.HeapAddedMiB)} MiB。"
            : $"  {model}: {count} clients connected and echoed in {F(run.ConnectSeconds)} s; engine threads {run.EngineThreads}, " +
                $"process threads {Signed(run.ProcessThreadsAdded)}, working set {Signed(run.WorkingSetAddedMiB)} MiB, managed heap {Signed(run.HeapAddedMiB)} MiB.";

        public static string Threads(bool zh, string model, double threads, double clients) => zh
            ? $"{model} 为 {clients} 个客户端运行了 {threads} 个引擎线程"
            : $"{model} ran {threads} engine threads for {clients} clients";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n)
        {
            double clients = n["clients"];
            return zh
                ? $"{clients} 个空闲客户端，每连接一个线程的做法运行了 {n["blocking_engine_threads"]} 个引擎线程" +
                    $"（进程线程 {Signed(n["blocking_process_threads_added"], "+0;-0;0")}），工作集变化 " +
                    $"{Signed(n["blocking_working_set_added_mib"])} MiB，每个客户端 {Signed(n["blocking_working_set_added_mib"] * 1024 / clients)} KiB；" +
                    $"async 自己运行了 {n["async_engine_threads"]} 个引擎线程（进程线程 {Signed(n["async_process_threads_added"], "+0;-0;0")}：" +
                    $"线程池和运行时的线程），工作集变化 {Signed(n["async_working_set_added_mib"])} MiB，" +
                    $"每个客户端 {Signed(n["async_working_set_added_mib"] * 1024 / clients)} KiB。" +
                    "阻塞的线程每个要一个栈和一个内核任务；一个挂起的异步接收只是堆上的一个小对象。"
                : $"For {clients} idle clients, thread per connection ran {n["blocking_engine_threads"]} engine threads " +
                    $"(process threads {Signed(n["blocking_process_threads_added"], "+0;-0;0")}) and changed the working set by " +
                    $"{Signed(n["blocking_working_set_added_mib"])} MiB, {Signed(n["blocking_working_set_added_mib"] * 1024 / clients)} KiB per client; " +
                    $"async ran {n["async_engine_threads"]} engine threads of its own (process threads {Signed(n["async_process_threads_added"], "+0;-0;0")}: " +
                    $"thread-pool and runtime threads) and changed it by {Signed(n["async_working_set_added_mib"])} MiB, " +
                    $"{Signed(n["async_working_set_added_mib"] * 1024 / clients)} KiB per client. " +
                    "Blocking threads cost a stack and a kernel task each; a pending async receive costs a small object on the heap.";
        }
    }

    private readonly record struct Run(long EngineThreads, int ProcessThreadsAdded, double WorkingSetAddedMiB, double HeapAddedMiB, double ConnectSeconds);
}
