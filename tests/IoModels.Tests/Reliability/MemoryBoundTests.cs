using System.Globalization;
using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Conformance;
using IoModels.Tests.Support;
using Xunit.Abstractions;

namespace IoModels.Tests.Reliability;

/// <summary>
/// Memory under slow readers, measured on a real <c>iomodels serve</c> child for every engine case
/// (<see cref="EngineCases.All"/>: each model and each variant, run with its own serve flags): 1,000
/// clients (or as many as the case serves at once, when fewer) each try to send more than the kernel can
/// hold for one connection (at least 4 MiB) and read nothing. Backpressure must hold the server to its
/// configured buffers plus a fixed overhead per connection; a server that kept reading would need gigabytes. The figure
/// (peak RSS growth, from /proc/PID/status VmHWM) goes to the README's reliability table.
/// </summary>
public sealed class MemoryBoundTests(ITestOutputHelper output)
{
    private const int OutputBuffer = 64 * 1024;
    private const int BufferSize = 16 * 1024;
    private const long MinimumBytesPerClient = 4L * 1024 * 1024;

    /// <summary>
    /// Memory a connection may cost beyond its two buffers: the blocking model's thread (touched stack,
    /// runtime thread data), the async model's state machine and event args, GC slack, logging. Generous
    /// on purpose: the test exists to catch unbounded buffering (megabytes per client), not kilobytes.
    /// </summary>
    private const long PerConnectionOverhead = 64 * 1024;

    /// <summary>The process's fixed cost of a burst of work (JIT, GC heap growth, thread pool) allowed on top.</summary>
    private const long FixedOverhead = 64L * 1024 * 1024;

    public static TheoryData<string> Engines => EngineCases.Names;

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_thousand_clients_that_send_without_reading_hold_the_server_to_its_buffers(string engine)
    {
        Skip.IfNot(ProcessProbe.IsAvailable, "reads the server's memory from /proc (Linux)");
        EngineCase engineCase = EngineCases.Get(engine);
        ModelInfo info = ModelRegistry.Find(engineCase.Model)!;
        Skip.IfNot(info.IsSupported, $"{engineCase.Model} is not available on this OS: {info.UnsupportedReason}");
        // A pool of N workers holds N connections; the rest would wait in the kernel's backlog, where
        // the server's memory cannot be what they cost (and connects past the backlog would time out).
        int clientCount = Math.Min(ReliabilitySettings.MemoryClients, engineCase.MaxConcurrentClients);
        long bound = clientCount * (OutputBuffer + BufferSize + PerConnectionOverhead) + FixedOverhead;
        // Each client tries to send more than the kernel may buffer for one connection (autotuning can grow
        // a loopback receive buffer to tcp_rmem's maximum), so a client that sent it all shows that the
        // server read without limit, not that the kernel absorbed it.
        long bytesPerClient = ProcessProbe.KernelTcpBufferCeiling() + MinimumBytesPerClient;

        await using CliProcess server = CliProcess.Start(["serve", .. EngineCases.ServeArguments(engineCase), "--port", "0",
            "--output-buffer", OutputBuffer.ToString(CultureInfo.InvariantCulture), "--buffer-size", BufferSize.ToString(CultureInfo.InvariantCulture)]);
        var endPoint = new IPEndPoint(IPAddress.Loopback, await server.WaitForServingPortAsync());
        using (TestClient warm = await TestClient.ConnectAsync(endPoint))
        {
            await warm.AssertEchoAsync(new byte[64 * 1024]); // the echo path is loaded and jitted before the baseline
        }

        long baseline = ProcessProbe.StatusBytes(server.Id, "VmRSS");
        byte[] chunk = [.. Enumerable.Range(0, 64 * 1024).Select(i => (byte)('a' + i % 26))];
        var clients = new List<Socket>(clientCount);
        using var stop = new CancellationTokenSource();
        long sent = 0;
        long[] sentBy = new long[clientCount]; // per client: one that sent everything shows the server read it without limit
        var floods = new List<Task>(clientCount);
        try
        {
            for (int i = 0; i < clientCount; i++)
            {
                // Small client buffers, so the kernel on our side absorbs little and the server's side is what is measured.
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
                {
                    SendBufferSize = 64 * 1024,
                    ReceiveBufferSize = 32 * 1024,
                    LingerState = new LingerOption(true, 0), // closing resets: nothing lingers in the kernel after the test
                };
                clients.Add(socket);
                await socket.ConnectAsync(endPoint).WithTimeout();
                int client = i;
                floods.Add(FloodAsync(socket, chunk, bytesPerClient, () =>
                {
                    Interlocked.Add(ref sent, chunk.Length);
                    Interlocked.Add(ref sentBy[client], chunk.Length);
                }, stop.Token));
            }

            // Wait until the senders are stalled (no progress for a second), failing early if memory passes the bound.
            long previous = -1;
            DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            int quiet = 0;
            while (quiet < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // a sampling period: no progress over time is the stall being observed, not a wait for an event
                long rss = ProcessProbe.StatusBytes(server.Id, "VmRSS");
                Assert.True(rss - baseline < bound, $"{engine}: RSS grew by {rss - baseline:N0} bytes with {clientCount} slow readers, over the bound of {bound:N0}: the server buffers without limit");
                long now = Interlocked.Read(ref sent);
                quiet = now == previous ? quiet + 1 : 0;
                previous = now;
            }

            long peak = ProcessProbe.StatusBytes(server.Id, "VmHWM");
            long total = Interlocked.Read(ref sent);
            output.WriteLine($"{engine}: {clientCount} clients sent {total:N0} bytes before stalling; RSS {baseline:N0} -> peak {peak:N0} (+{peak - baseline:N0}, {(peak - baseline) / clientCount:N0} per client); bound {bound:N0}");
            Assert.True(quiet >= 2, $"{engine}: the senders were still making progress after 90 s ({total:N0} bytes sent)");
            int unbounded = Enumerable.Range(0, clientCount).Count(c => Interlocked.Read(ref sentBy[c]) >= bytesPerClient);
            Assert.True(unbounded == 0, $"{engine}: {unbounded} of {clientCount} clients sent all {bytesPerClient:N0} bytes without reading: nothing pushed back on them");
            Assert.True(peak - baseline < bound, $"{engine}: peak RSS grew by {peak - baseline:N0} bytes, over the bound of {bound:N0}");
            ReliabilitySettings.Report("memory", engine, clientCount, baseline, peak, peak - baseline, total);
        }
        finally
        {
            await stop.CancelAsync();
            clients.ForEach(c => c.Dispose());
            await Task.WhenAll(floods).WithTimeout(TimeSpan.FromSeconds(30));
        }

        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Sends up to <paramref name="bytes"/> and reads nothing; ends quietly when the test cuts it off.</summary>
    private static async Task FloodAsync(Socket socket, byte[] chunk, long bytes, Action sentChunk, CancellationToken cancellationToken)
    {
        try
        {
            for (long total = 0; total < bytes; total += chunk.Length)
            {
                for (int offset = 0; offset < chunk.Length;)
                {
                    offset += await socket.SendAsync(chunk.AsMemory(offset), SocketFlags.None, cancellationToken); // no deadline: the test's loop decides when to stop
                }

                sentChunk();
            }
        }
        catch (Exception exception) when (cancellationToken.IsCancellationRequested && exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Expected: the test stops the flood once memory was measured; this client's send was still blocked.
        }
    }
}
