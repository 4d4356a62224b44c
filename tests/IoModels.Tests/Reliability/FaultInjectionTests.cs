using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Conformance;
using IoModels.Tests.Support;
using Xunit.Abstractions;

namespace IoModels.Tests.Reliability;

/// <summary>
/// Many badly behaved clients at once against every engine case (<see cref="EngineCases.All"/>, so
/// engines added later are covered with no change here): random sizes and splits, pauses, tiny and
/// stalled reads, half-closes, resets mid-stream and reconnects, checked byte for byte by an oracle.
/// Afterwards the server must still serve, and hold no connection, engine thread or descriptor more
/// than before. Seeded: a failure prints IOMODELS_FAULT_SEED to replay it.
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    /// <summary>
    /// Descriptors the process may hold beyond its baseline after a run: the runtime opens a few of its
    /// own lazily (an epoll instance and its wake-up pipe for async sockets, a timer), none per connection.
    /// </summary>
    private const int DescriptorTolerance = 4;

    /// <summary>
    /// Process threads allowed beyond the baseline after a run: the thread pool grows under load and
    /// retires idle threads only after about 20 s, so this is loose. Engine threads are checked
    /// strictly through the engine's own Threads counter instead.
    /// </summary>
    private const int ProcessThreadTolerance = 48;

    public static TheoryData<string> Engines => EngineCases.Names;

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Faulty_clients_get_every_byte_right_and_leave_nothing_behind(string engine)
    {
        Skip.IfNot(ProcessProbe.IsAvailable, "reads /proc/self to find leaked descriptors and threads (Linux)");
        EngineCase engineCase = EngineCases.Get(engine);
        int seed = ReliabilitySettings.FaultSeed;
        int clients = Math.Min(ReliabilitySettings.FaultClients, engineCase.MaxConcurrentClients);
        string replay = $"[{engine}, IOMODELS_FAULT_SEED={seed}]";
        output.WriteLine($"{replay} {clients} clients for {ReliabilitySettings.FaultDuration.TotalSeconds:0} s");

        await WarmUpRuntimeSocketsAsync();
        int descriptorsBefore = ProcessProbe.OpenDescriptors();
        Dictionary<int, string> threadsBefore = ProcessProbe.Threads();

        var server = RunningServer.Start(engineCase);
        var tally = new FaultTally();
        try
        {
            int descriptorsServing = ProcessProbe.OpenDescriptors();
            long engineThreadsServing = server.Statistics[EchoCounter.Threads];

            // No amplification: watched all along, not only at the end.
            using var watching = new CancellationTokenSource();
            Task watcher = WatchForAmplificationAsync(server.Statistics, watching.Token);

            DateTime deadline = DateTime.UtcNow + ReliabilitySettings.FaultDuration;
            Task[] running = [.. Enumerable.Range(0, clients).Select(i => Task.Run(() => new FaultClient(server.EndPoint, seed, i, tally).RunAsync(deadline)))];
            try
            {
                await Task.WhenAll(running).WithTimeout(ReliabilitySettings.FaultDuration + TimeSpan.FromSeconds(90));
            }
            catch (Exception exception)
            {
                string[] failures = [.. running.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!.Message)];
                Assert.Fail(failures.Length == 0
                    ? $"{replay} the clients did not finish: {exception.Message}; {tally}"
                    : $"{replay} {failures.Length} client(s) failed; first: {string.Join(" | ", failures.Take(3))}; {tally}");
            }
            finally
            {
                await watching.CancelAsync(); // also when the clients failed: the watcher must not outlive the test
            }

            await watcher.WithTimeout(TimeSpan.FromSeconds(10));
            output.WriteLine($"{replay} {tally}");

            // The server is intact: nothing counted open, its own threads back to what it started with, still serving.
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0,
                $"{replay} every connection is closed (still {server.Statistics[EchoCounter.ConnectionsActive]})");
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.Threads] == engineThreadsServing,
                $"{replay} the engine is back to its {engineThreadsServing} serving thread(s) (has {server.Statistics[EchoCounter.Threads]})");
            using (TestClient fresh = await server.ConnectAsync())
            {
                await fresh.AssertEchoAsync("a fresh client after the storm"u8.ToArray());
            }

            await TaskTimeoutExtensions.Eventually(() => ProcessProbe.OpenDescriptors() <= descriptorsServing + DescriptorTolerance,
                $"{replay} descriptors return to {descriptorsServing} while serving (now {ProcessProbe.OpenDescriptors()}): a connection socket leaked");

            long bytesIn = server.Statistics[EchoCounter.BytesIn];
            long bytesOut = server.Statistics[EchoCounter.BytesOut];
            Assert.True(bytesOut <= bytesIn, $"{replay} the server sent {bytesOut} bytes but received only {bytesIn}");
            Assert.True(bytesOut >= tally.BytesVerified, $"{replay} clients verified {tally.BytesVerified} bytes but the server counts only {bytesOut} sent");
            Assert.True(tally.BytesVerified > 0, $"{replay} the run verified nothing: {tally}");
            if (tally.Sessions >= 40)
            {
                // Each ending has a 25-45% chance per session: with 40 sessions, missing one means the harness is broken.
                Assert.True(tally.Resets > 0 && tally.HalfCloses > 0 && tally.Closes > 0, $"{replay} the run exercised too little: {tally}");
            }
        }
        finally
        {
            await server.DisposeAsync(); // asserts: no engine thread, no connection, no fault
        }

        await TaskTimeoutExtensions.Eventually(() => ProcessProbe.OpenDescriptors() <= descriptorsBefore + DescriptorTolerance,
            $"{replay} descriptors return to {descriptorsBefore} after stop (now {ProcessProbe.OpenDescriptors()})");
        Dictionary<int, string> threadsAfter = ProcessProbe.Threads();
        string[] newThreads = [.. threadsAfter.Where(t => !threadsBefore.ContainsKey(t.Key)).Select(t => t.Value)];
        Assert.True(newThreads.Length <= ProcessThreadTolerance,
            $"{replay} {newThreads.Length} more process threads than before the run: {string.Join(", ", newThreads.GroupBy(n => n).Select(g => $"{g.Key} x{g.Count()}"))}");

        ReliabilitySettings.Report("fault", engine, clients, tally.Sessions, tally.FaultsInjected, tally.BytesVerified, 0, 0, seed);
    }

    /// <summary>Fails the run if the server ever counts more bytes out than in: an echo never adds.</summary>
    private static async Task WatchForAmplificationAsync(EchoStatistics statistics, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            // Out is read first: both only grow, so a later In that is smaller would be a real excess.
            long bytesOut = statistics[EchoCounter.BytesOut];
            long bytesIn = statistics[EchoCounter.BytesIn];
            Assert.True(bytesOut <= bytesIn, $"the server counted {bytesOut} bytes out but only {bytesIn} in");
            try
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return; // Expected: the run is over.
            }
        }
    }

    /// <summary>
    /// The runtime opens its async-socket machinery (an epoll instance, a pipe) on first use and keeps
    /// it; using it once before the baseline keeps those descriptors out of the leak count.
    /// </summary>
    private static async Task WarmUpRuntimeSocketsAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using TestClient client = await TestClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        using Socket accepted = await listener.AcceptAsync().WithTimeout();
        await client.SendAsync(new byte[1]);
        Assert.Equal(1, await accepted.ReceiveAsync(new byte[1], SocketFlags.None).WithTimeout());
    }
}
