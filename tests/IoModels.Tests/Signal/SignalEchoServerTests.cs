using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using IoModels.Signal;
using IoModels.Tests.Support;

namespace IoModels.Tests.Signal;

/// <summary>
/// What the conformance suite cannot see in the signal model: that the signals alone drive it (the
/// re-check timer switched off), and that every signal costs a try of every socket.
/// </summary>
[Collection(SigioRunsAlone.Name)]
[SupportedOSPlatform("linux")] // and each test skips elsewhere: the attributes are for the platform analyzer
[SupportedOSPlatform("macos")]
public sealed class SignalEchoServerTests
{
    [SkippableFact]
    public async Task Signals_alone_drive_accept_echo_backpressure_and_half_close()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGIO is driven on Linux and macOS only");
        // No re-check timer: if any event went unsignalled, a step below would stall and time out.
        var server = new SignalEchoServer(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) })
        {
            RecheckInterval = Timeout.InfiniteTimeSpan,
        };
        server.Start();
        try
        {
            using TestClient talker = await TestClient.ConnectAsync(server.LocalEndPoint);
            await talker.AssertEchoAsync("signal-driven"u8.ToArray());

            // A client that does not read: its output buffer fills, the engine stops reading it, and
            // it can only resume when the kernel signals that send space freed up.
            using var reader = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024 };
            await reader.ConnectAsync(server.LocalEndPoint).WithTimeout();
            byte[] payload = Reference.RandomBytes(8 * 1024 * 1024, seed: 29);
            Task send = TestClient.SendAllAsync(reader, payload);
            await TaskTimeoutExtensions.Eventually(
                () => server.Statistics[EchoCounter.PeakBufferedBytes] == 64 * 1024, "the stalled client's output buffer is full");
            // (The kernel's buffers may take the rest of the 8 MiB; the engine still has nearly all of it to echo.)

            byte[] echo = new byte[payload.Length];
            int received = 0;
            using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (received < echo.Length)
                {
                    int n = await reader.ReceiveAsync(echo.AsMemory(received), SocketFlags.None, deadline.Token);
                    Assert.NotEqual(0, n);
                    received += n;
                }
            }

            await send.WithTimeout();
            Assert.Equal(Reference.Upper(payload), echo);

            // Half-close: every echo, then the end of stream.
            using TestClient closer = await TestClient.ConnectAsync(server.LocalEndPoint);
            byte[] last = Reference.RandomBytes(256 * 1024, seed: 23);
            Task<byte[]> lastEcho = closer.ReceiveExactlyAsync(last.Length);
            await closer.SendAsync(last);
            closer.Socket.Shutdown(SocketShutdown.Send);
            Assert.Equal(Reference.Upper(last), await lastEcho.WithTimeout());
            Assert.True(await closer.ReceiveEndAsync(), "after the last echo the server closes its side");

            Assert.Equal(0, server.Statistics[EchoCounter.WaitTimeouts]);
            Assert.True(server.Statistics[EchoCounter.Signals] > 0);
        }
        finally
        {
            await StopAndCheckAsync(server);
        }
    }

    [SkippableFact]
    public async Task Every_sweep_tries_every_socket_so_idle_clients_make_each_signal_cost_more()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGIO is driven on Linux and macOS only");
        const int idleClients = 20;
        const int sockets = idleClients + 2; // the idle ones, the talking one, and the listener
        var server = new SignalEchoServer(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        var clients = new List<TestClient>();
        try
        {
            for (int i = 0; i < idleClients + 1; i++)
            {
                clients.Add(await TestClient.ConnectAsync(server.LocalEndPoint));
            }

            TestClient talker = clients[^1];
            await talker.AssertEchoAsync("warm up"u8.ToArray());
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == idleClients + 1, "every client is accepted");

            StatisticsSnapshot before = await SnapshotBetweenSweepsAsync(server.Statistics);
            for (int i = 0; i < 50; i++)
            {
                await talker.AssertEchoAsync("one line from the only client talking\n"u8.ToArray());
            }

            StatisticsSnapshot after = await SnapshotBetweenSweepsAsync(server.Statistics);
            long Delta(EchoCounter counter) => after[counter] - before[counter];

            long sweeps = Delta(EchoCounter.Sweeps);
            Assert.True(Delta(EchoCounter.Signals) >= 1, "signals woke the engine");
            // A visit receives until would-block, so a quick client's next line may be served in the same
            // sweep, but never more than the per-visit share.
            Assert.True(sweeps * SignalEchoServer.MaxReceivesPerVisit >= 50, $"50 echoes in only {sweeps} sweeps");

            // Each sweep tries all sockets (a snapshot may fall inside a sweep, hence the one-sweep slack).
            long scanned = Delta(EchoCounter.SocketsScanned);
            Assert.InRange(scanned, (sweeps - 1) * sockets, (sweeps + 1) * sockets);

            // ...and every idle client's try is a receive that would block: wasted.
            Assert.True(Delta(EchoCounter.WouldBlock) >= (sweeps - 1) * idleClients,
                $"{Delta(EchoCounter.WouldBlock)} would-blocks over {sweeps} sweeps of {idleClients} idle clients");
            Assert.InRange(Delta(EchoCounter.ReadyEvents), 1, sweeps + 1); // at most the talker finds work in a sweep
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            await StopAndCheckAsync(server);
        }
    }

    /// <summary>
    /// A snapshot during which no sweep began. Counters are read one at a time, so on a loaded machine
    /// whole sweeps could otherwise fall between reading one counter and the next; a sweep already
    /// under way is covered by the one-sweep slack in the assertions.
    /// </summary>
    private static async Task<StatisticsSnapshot> SnapshotBetweenSweepsAsync(EchoStatistics statistics)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            long sweeps = statistics[EchoCounter.Sweeps];
            StatisticsSnapshot snapshot = statistics.Snapshot();
            if (snapshot[EchoCounter.Sweeps] == sweeps && statistics[EchoCounter.Sweeps] == sweeps)
            {
                return snapshot;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("The engine never paused between sweeps long enough to take a snapshot.");
    }

    private static async Task StopAndCheckAsync(SignalEchoServer server)
    {
        await server.StopAsync().WithTimeout(TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.Statistics[EchoCounter.Threads]);
        Assert.Equal(0, server.Statistics[EchoCounter.ConnectionsActive]);
        Assert.Equal(0, server.Statistics[EchoCounter.Faults]);
        await server.DisposeAsync();
    }
}
