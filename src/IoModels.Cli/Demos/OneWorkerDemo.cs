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

    public string Title => "blocking with one worker thread: the second client waits until the first leaves";

    public IReadOnlyList<string> Models { get; } = ["blocking"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo model = RequireModel("blocking");
        // 3 s: long enough to see the wait on a projector; 300 ms at least, far above loopback round trips.
        TimeSpan hold = context.Duration(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(300));
        await using IEchoServer server = StartServer(model, o => o with { Workers = 1 });
        context.Say($"A blocking server with --workers 1 listens on {server.LocalEndPoint}: one thread that accepts a client and serves it until it leaves.");

        using DemoClient a = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        TimeSpan aTrip = await a.EchoAsync("hello from a", cancellationToken);
        context.Say($"Client A connects and says hello: echoed in {F(aTrip.TotalMilliseconds)} ms. The worker now sits in Receive for A, blocked.");

        using DemoClient b = await DemoClient.ConnectAsync(server.LocalEndPoint, cancellationToken);
        context.Say("Client B connects: connect succeeds at once, because the kernel completes the handshake and queues B for Accept. Nobody calls Accept.");
        var bWait = Stopwatch.StartNew();
        await b.SendAsync("hello from b", cancellationToken);
        Task bEcho = b.ReceiveEchoAsync("hello from b", cancellationToken);
        context.Say($"B sends its line. A stays connected, silent, for {F(hold.TotalSeconds)} s...");

        await Task.WhenAny(bEcho, Task.Delay(hold, cancellationToken));
        bool servedEarly = bEcho.IsCompleted;
        long acceptsBefore = server.Statistics[EchoCounter.ConnectionsAccepted];
        context.Say(servedEarly
            ? "B was answered while A was still connected: that should not happen with one worker."
            : $"...and B is still waiting: connections accepted so far {acceptsBefore}, engine threads {server.Statistics[EchoCounter.Threads]}.");
        a.Leave();
        context.Say("A leaves. Its Receive returns 0 (end of stream), the worker closes A and goes back to Accept, which hands it B at once.");
        await bEcho;
        bWait.Stop();
        context.Say($"B's echo arrives {F(bWait.Elapsed.TotalSeconds)} s after B sent it.");
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
        return Judge(numbers);
    }

    public DemoResult Judge(IReadOnlyDictionary<string, double> n) => DemoResult.Judge(n,
        [
            new(n["b_wait_s"] >= n["hold_s"] * 0.9, $"B was answered after {F(n["b_wait_s"])} s, before A left at {F(n["hold_s"])} s"),
            new(n["peak_threads"] == 1, $"the engine ran {n["peak_threads"]} threads, not one"),
        ],
        () => $"With one worker, B waited {F(n["b_wait_s"])} s for an echo that took A {F(n["a_round_trip_ms"])} ms: " +
            $"the whole {F(n["hold_s"])} s that A held the only thread (peak engine threads: {n["peak_threads"]}). " +
            "A blocked thread serves one client at a time (`iomodels demo pool-of-two` measures a pool of two).");
}
