using IoModels.Tests.Support;

namespace IoModels.Tests.Conformance;

/// <summary>
/// Socket.Select past the number a classic select(2) can watch: on Linux .NET implements it with
/// poll(2), so FD_SETSIZE (1,024) does not limit it. 1,100 clients at once, each checked byte for byte.
/// </summary>
public sealed class SelectScaleTests
{
    private const int Clients = 1100;

    [SkippableFact]
    public async Task Select_serves_more_clients_at_once_than_FD_SETSIZE_each_getting_its_own_bytes()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "on Linux Socket.Select is poll(2); elsewhere it may be select(2), bounded by FD_SETSIZE");
        Skip.If(SoftDescriptorLimit() < 2 * Clients + 200, $"needs {2 * Clients + 200} file descriptors (client and server end of each connection)");

        await using var server = RunningServer.Start(EngineCases.Get("select"));
        var clients = new List<TestClient>(Clients);
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(await server.ConnectAsync());
            }

            // Client and server sockets share this process's descriptor table, so with 2,200 open the
            // server's surely include numbers at or beyond 1,024, which select(2) could not even name.
            Assert.Contains(clients, c => (long)c.Socket.Handle >= 1024);
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == Clients, "every client is accepted");

            await Task.WhenAll(clients.Select((client, i) => Task.Run(async () =>
            {
                byte[] data = Reference.RandomBytes(512, seed: 1000 + i);
                await client.AssertEchoAsync(data);
            }))).WithTimeout(TimeSpan.FromSeconds(90));

            Assert.Equal(Clients, server.Statistics[EchoCounter.PeakConnections]);
            // Eventually: the engine counts a send after it returns, and the client may have read the bytes first.
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesOut] == Clients * 512L, "every echoed byte is counted");
            Assert.Equal(0, server.Statistics[EchoCounter.ConnectionsRejected]);

            // With every client idle, each wait scans the listener and all 1,100 connections, and times out.
            (long Waits, long Scanned) first = await SettledReadingAsync(server);
            (long Waits, long Scanned) second = await SettledReadingAsync(server);
            Assert.Equal((second.Waits - first.Waits) * (Clients + 1), second.Scanned - first.Scanned);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "every connection is closed");
    }

    /// <summary>
    /// Waits and sockets scanned from one published round, after at least one more wait: the engine
    /// adds both once per wait (a flush after Select returns, one counter after the other), so a reading
    /// is whole when neither counter moved while it was taken, read twice; with every client idle the
    /// engine then sits in Select for its timeout before it publishes again.
    /// </summary>
    private static async Task<(long Waits, long Scanned)> SettledReadingAsync(RunningServer server)
    {
        long waits = server.Statistics[EchoCounter.Waits];
        (long Waits, long Scanned) reading = default;
        await TaskTimeoutExtensions.Eventually(() =>
        {
            long scanned = server.Statistics[EchoCounter.SocketsScanned];
            long now = server.Statistics[EchoCounter.Waits];
            reading = (now, scanned);
            return now > waits && server.Statistics[EchoCounter.SocketsScanned] == scanned && server.Statistics[EchoCounter.Waits] == now;
        }, "the engine publishes another wait, with both counters standing still");
        return reading;
    }

    /// <summary>The soft RLIMIT_NOFILE, from /proc/self/limits ("Max open files  SOFT  HARD  files").</summary>
    private static long SoftDescriptorLimit()
    {
        string? line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string[] fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return fields.Length >= 4 && long.TryParse(fields[3], System.Globalization.CultureInfo.InvariantCulture, out long soft) ? soft : long.MaxValue;
    }
}
