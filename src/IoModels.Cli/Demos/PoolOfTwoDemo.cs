using System.Diagnostics;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>(b) A pool of two blocking workers and three clients: two are served at once, the third waits for a free worker.</summary>
internal sealed class PoolOfTwoDemo : IDemoScenario
{
    public string Name => "pool-of-two";

    public string Title => "blocking with a pool of two threads and three clients: the third waits for a free worker";

    public IReadOnlyList<string> Models { get; } = ["blocking"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo model = RequireModel("blocking");
        // 3 s: long enough to see the wait on a projector; 300 ms at least, far above loopback round trips.
        TimeSpan hold = context.Duration(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(300));
        await using IEchoServer server = StartServer(model, o => o with { Workers = 2 });
        context.Say($"A blocking server with --workers 2 listens on {server.LocalEndPoint}: two threads, each serving one client at a time.");

        using DemoClient a = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        TimeSpan aTrip = await a.EchoAsync("a here", cancellationToken);
        using DemoClient b = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        TimeSpan bTrip = await b.EchoAsync("b here", cancellationToken);
        context.Say($"A and B connect and are echoed in {F(aTrip.TotalMilliseconds)} ms and {F(bTrip.TotalMilliseconds)} ms: each has a worker, blocked in Receive for it.");

        using DemoClient c = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        var cWait = Stopwatch.StartNew();
        await c.SendAsync("c here", cancellationToken);
        Task cEcho = c.ReceiveEchoAsync("c here", cancellationToken);
        context.Say($"C connects and sends. Both workers are taken; C waits in the accept queue. A and B stay for {F(hold.TotalSeconds)} s.");

        await Task.WhenAny(cEcho, Task.Delay(hold, cancellationToken));
        context.Say(cEcho.IsCompleted
            ? "C was answered while both workers were busy: that should not happen with a pool of two."
            : $"C is still waiting; engine threads: {server.Statistics[EchoCounter.Threads]}, connections served now: {server.Statistics[EchoCounter.ConnectionsActive]}.");
        a.Leave();
        context.Say("A leaves; its worker is free, accepts C and serves it.");
        await cEcho;
        cWait.Stop();
        TimeSpan bLater = await b.EchoAsync("b again", cancellationToken);
        context.Say($"C's echo came {F(cWait.Elapsed.TotalSeconds)} s after C sent it; B, still on its own worker, is echoed in {F(bLater.TotalMilliseconds)} ms.");
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
        return Judge(numbers);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n) => DemoResult.Judge(n,
        [
            new(n["c_wait_s"] >= n["hold_s"] * 0.9, $"C was answered after {F(n["c_wait_s"])} s, before A left at {F(n["hold_s"])} s"),
            new(n["peak_threads"] == 2, $"the engine ran {n["peak_threads"]} threads, not two"),
            new(n["peak_connections"] == 2, $"the engine served {n["peak_connections"]} connections at once, not two"),
        ],
        () => $"Two workers served A and B at once ({F(n["a_round_trip_ms"])} ms and {F(n["b_round_trip_ms"])} ms), " +
            $"but C waited {F(n["c_wait_s"])} s, until A left after {F(n["hold_s"])} s. " +
            $"Peak engine threads {n["peak_threads"]}, peak connections served {n["peak_connections"]}: a pool caps threads, and so caps clients.");
}
