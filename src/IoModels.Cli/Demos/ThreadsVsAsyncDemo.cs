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

    public string Title => "2,000 clients: thread per connection (blocking) vs async, threads and memory";

    public IReadOnlyList<string> Models { get; } = ["blocking", "async"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo blocking = RequireModel("blocking");
        ModelInfo async = RequireModel("async");
        int clients = context.Count(2000, 10);
        context.Say($"{clients} clients connect, each is echoed once, then all stay connected and silent while we count.");

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
        return Judge(numbers);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n)
    {
        double clients = n["clients"];
        return DemoResult.Judge(n,
            [
                new(n["blocking_engine_threads"] >= clients, $"blocking ran {n["blocking_engine_threads"]} engine threads for {clients} clients"),
                new(n["async_engine_threads"] < clients, $"async ran {n["async_engine_threads"]} engine threads for {clients} clients"),
            ],
            () => $"For {clients} idle clients, thread per connection ran {n["blocking_engine_threads"]} engine threads " +
                $"(process threads {Signed(n["blocking_process_threads_added"], "+0;-0;0")}) and changed the working set by " +
                $"{Signed(n["blocking_working_set_added_mib"])} MiB, {Signed(n["blocking_working_set_added_mib"] * 1024 / clients)} KiB per client; " +
                $"async ran {n["async_engine_threads"]} engine threads of its own (process threads {Signed(n["async_process_threads_added"], "+0;-0;0")}: " +
                $"thread-pool and runtime threads) and changed it by {Signed(n["async_working_set_added_mib"])} MiB, " +
                $"{Signed(n["async_working_set_added_mib"] * 1024 / clients)} KiB per client. " +
                "Blocking threads cost a stack and a kernel task each; a pending async receive costs a small object on the heap.");
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
            context.Say($"  {model.Name}: {count} clients connected and echoed in {F(run.ConnectSeconds)} s; engine threads {run.EngineThreads}, " +
                $"process threads {Signed(run.ProcessThreadsAdded)}, working set {Signed(run.WorkingSetAddedMiB)} MiB, managed heap {Signed(run.HeapAddedMiB)} MiB.");
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

    private readonly record struct Run(long EngineThreads, int ProcessThreadsAdded, double WorkingSetAddedMiB, double HeapAddedMiB, double ConnectSeconds);
}
