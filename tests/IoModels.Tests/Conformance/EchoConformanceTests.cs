using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests.Conformance;

/// <summary>
/// The contract every engine must keep, run against every case in <see cref="EngineCases"/>: the
/// protocol byte for byte, streams of any size and split, many clients, half-close, resets,
/// backpressure, the connection limit, the idle timeout, and a clean stop.
/// </summary>
public sealed class EchoConformanceTests
{
    public static TheoryData<string> Engines => EngineCases.Names;

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Port_zero_reports_the_bound_port_and_serves_on_it(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine));
        Assert.NotEqual(0, server.EndPoint.Port);
        using TestClient client = await server.ConnectAsync();
        await client.AssertEchoAsync("hello, world"u8.ToArray());
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Every_byte_value_is_echoed_with_only_a_to_z_uppercased(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine));
        using TestClient client = await server.ConnectAsync();
        byte[] allBytes = Enumerable.Range(0, 256 * 4).Select(i => (byte)i).ToArray();
        await client.SendAsync(allBytes);
        byte[] echo = await client.ReceiveExactlyAsync(allBytes.Length);
        for (int i = 0; i < allBytes.Length; i++)
        {
            byte expected = allBytes[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(allBytes[i] - 32) : allBytes[i];
            Assert.True(expected == echo[i], $"byte {i} (0x{allBytes[i]:x2}) came back as 0x{echo[i]:x2}");
        }

        // Eventually: an event loop may publish its counters after the echo is already on its way.
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesIn] == allBytes.Length, $"every received byte is counted (expected {allBytes.Length})");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_4_MiB_payload_sent_while_reading_comes_back_byte_exact(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine));
        using TestClient client = await server.ConnectAsync();
        byte[] payload = Reference.RandomBytes(4 * 1024 * 1024, seed: 4);
        Task send = Task.Run(async () =>
        {
            // Uneven chunks, so the server sees the stream split at arbitrary points.
            var random = new Random(7);
            for (int offset = 0; offset < payload.Length;)
            {
                int n = Math.Min(random.Next(1, 70_000), payload.Length - offset);
                await client.SendAsync(payload.AsMemory(offset, n));
                offset += n;
            }
        });
        byte[] echo = await client.ReceiveExactlyAsync(payload.Length);
        await send.WithTimeout();
        Assert.Equal(Reference.Upper(payload), echo);
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Sixty_four_concurrent_clients_each_get_their_own_bytes_back(string engine)
    {
        await ManyClientsAsync(EngineCases.Get(engine), clients: 64, bytesEach: 32 * 1024);
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_thousand_concurrent_clients_each_get_their_own_bytes_back(string engine)
    {
        await ManyClientsAsync(EngineCases.Get(engine), clients: 1000, bytesEach: 1024);
    }

    private static async Task ManyClientsAsync(EngineCase engine, int clients, int bytesEach)
    {
        Skip.If(engine.MaxConcurrentClients < clients, $"{engine.Name} serves at most {engine.MaxConcurrentClients} clients at once");
        await using var server = RunningServer.Start(engine);
        var connected = new List<TestClient>(clients);
        try
        {
            // Connect them all first, so they are truly concurrent, then talk on all at once.
            for (int i = 0; i < clients; i++)
            {
                connected.Add(await server.ConnectAsync());
            }

            await Task.WhenAll(connected.Select((client, i) => Task.Run(async () =>
            {
                byte[] data = Reference.RandomBytes(bytesEach, seed: i);
                for (int offset = 0; offset < data.Length; offset += 4096)
                {
                    await client.AssertEchoAsync(data[offset..Math.Min(offset + 4096, data.Length)]);
                }
            }))).WithTimeout(TimeSpan.FromSeconds(60));

            Assert.Equal(clients, server.Statistics[EchoCounter.PeakConnections]);
            // A completion engine counts a send when it reaps the completion, which may come just after the client has the bytes.
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesOut] == (long)clients * bytesEach,
                $"every echoed byte is counted (expected {(long)clients * bytesEach})");
        }
        finally
        {
            connected.ForEach(c => c.Dispose());
        }

        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "every connection is closed");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_client_that_half_closes_gets_every_echo_and_then_the_end_of_stream(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine));
        using TestClient client = await server.ConnectAsync();
        byte[] payload = Reference.RandomBytes(1024 * 1024, seed: 11);
        Task<byte[]> receive = client.ReceiveExactlyAsync(payload.Length);
        await client.SendAsync(payload);
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(Reference.Upper(payload), await receive.WithTimeout());
        Assert.True(await client.ReceiveEndAsync(), "after the last echo the server closes its side");
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "the server counts the connection closed");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_client_reset_mid_stream_does_not_disturb_another_client(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine));
        using TestClient steady = await server.ConnectAsync();
        using TestClient victim = await server.ConnectAsync();
        await steady.AssertEchoAsync("before"u8.ToArray());

        // The victim sends a lot, reads nothing, and resets with unsent and unread data in flight: it
        // resets once the server has echoed part of the flood (more than steady's 6 bytes out), so
        // the reset meets a connection the server is busy reading and writing.
        Task flood = TestClient.SendAllAsync(victim.Socket, Reference.RandomBytes(512 * 1024, seed: 3));
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesOut] > "before".Length, "the server echoes part of the victim's flood");
        victim.Reset();
        try
        {
            await flood.WithTimeout();
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Expected: the flood was cut off by our own reset.
        }

        byte[] after = Reference.RandomBytes(256 * 1024, seed: 5);
        Task<byte[]> echo = steady.ReceiveExactlyAsync(after.Length);
        await steady.SendAsync(after);
        Assert.Equal(Reference.Upper(after), await echo.WithTimeout());
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 1, "the reset connection is cleaned up");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_client_that_sends_64_MiB_and_reads_nothing_is_held_to_the_buffer_bound(string engine)
    {
        const long total = 64L * 1024 * 1024;
        const int seed = 9;
        await using var server = RunningServer.Start(EngineCases.Get(engine),
            o => o with { BufferSize = 16 * 1024, OutputBufferLimit = 64 * 1024 });
        using TestClient client = await server.ConnectAsync();

        long sent = 0;
        Task send = Task.Run(async () =>
        {
            byte[] chunk = new byte[64 * 1024];
            while (sent < total)
            {
                int n = (int)Math.Min(chunk.Length, total - sent);
                for (int i = 0; i < n; i++)
                {
                    chunk[i] = Reference.StreamByte(sent + i, seed);
                }

                await TestClient.SendAllAsync(client.Socket, chunk.AsMemory(0, n));
                Interlocked.Add(ref sent, n);
            }
        });

        // The sender runs into the wall: its socket stops polling writable once its kernel send buffer
        // is full, which on loopback means the server's receive side is full too. That can be a moment's
        // lag as well as a stall, so then the stall itself is shown: nothing moves for half a second.
        await TaskTimeoutExtensions.Eventually(() => send.IsCompleted || !client.Socket.Poll(0, SelectMode.SelectWrite),
            "the sender's socket buffer fills up", TimeSpan.FromSeconds(60));
        (long Sent, long Read) before = (-1, -1);
        DateTime stallDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!send.IsCompleted && before != (Interlocked.Read(ref sent), server.Statistics[EchoCounter.BytesIn]))
        {
            Assert.True(DateTime.UtcNow < stallDeadline, $"{engine}: the sender was still moving after 60 s ({Interlocked.Read(ref sent):N0} bytes sent)");
            before = (Interlocked.Read(ref sent), server.Statistics[EchoCounter.BytesIn]);
            await Task.Delay(500); // time passing with nothing moved is the stall being shown, not a wait for an event
        }

        Assert.False(send.IsCompleted, "64 MiB cannot fit in the kernel and server buffers; the sender should be stalled");

        // What the server holds is what it read and has not yet sent (counted by bytes in and out, not by
        // its own buffer, which cannot overflow by construction and which blocking and async do not use):
        // at most the output buffer. An engine that kept reading while it could not send fails here.
        long held = await HeldBytesAsync(server);
        Assert.True(held <= server.Options.OutputBufferLimit,
            $"{engine}: the server holds {held:N0} bytes it read and has not echoed, over its {server.Options.OutputBufferLimit:N0}-byte output buffer");

        // Now read everything: it must all arrive, in order, uppercased, and the bound must have held throughout.
        byte[] buffer = new byte[256 * 1024];
        long received = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (received < total)
        {
            int n = await client.Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.NotEqual(0, n);
            for (int i = 0; i < n; i++)
            {
                byte expected = Reference.Upper(Reference.StreamByte(received + i, seed));
                if (buffer[i] != expected)
                {
                    Assert.Fail($"byte {received + i} is 0x{buffer[i]:x2}, expected 0x{expected:x2}");
                }
            }

            received += n;
        }

        await send.WithTimeout();
        // A completion engine counts a send when it reaps the completion, which may come just after the client read the bytes.
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesOut] == total, $"every echoed byte is counted (expected {total})");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task The_connection_limit_refuses_the_extra_client_and_serves_the_rest(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { MaxConnections = 3 });
        var admitted = new List<TestClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                TestClient client = await server.ConnectAsync();
                admitted.Add(client);
                await client.AssertEchoAsync("admitted"u8.ToArray()); // served, so surely counted before the next
            }

            using TestClient extra = await server.ConnectAsync(); // the kernel completes the handshake either way
            Assert.True(await extra.ReceiveEndAsync(), "the extra client is closed, not served");
            Assert.Equal(1, server.Statistics[EchoCounter.ConnectionsRejected]);

            foreach (TestClient client in admitted)
            {
                await client.AssertEchoAsync("still served"u8.ToArray());
            }
        }
        finally
        {
            admitted.ForEach(c => c.Dispose());
        }
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task The_idle_timeout_closes_a_silent_client_and_spares_a_talking_one(string engine)
    {
        // 2 s, talked to every 100 ms: a loaded CI machine can stall a client for most of a second,
        // and the talking client must never look idle for reasons of our own making.
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { IdleTimeout = TimeSpan.FromSeconds(2) });

        // The clock starts before the silent client connects: the server cannot accept it (and start
        // its idle clock) any earlier. Started after both connects, a slow second connect on a loaded
        // machine (0.6 s once in CI) made a correct close look early.
        var silentFor = System.Diagnostics.Stopwatch.StartNew();
        using TestClient silent = await server.ConnectAsync();
        using TestClient talking = await server.ConnectAsync();
        Task<bool> silentEnded = silent.ReceiveEndAsync(TimeSpan.FromSeconds(20));
        while (!silentEnded.IsCompleted && silentFor.Elapsed < TimeSpan.FromSeconds(20))
        {
            await talking.AssertEchoAsync("still here"u8.ToArray());
            await Task.WhenAny(silentEnded, Task.Delay(100)); // pacing the talking client (an echo every 100 ms), not synchronisation
        }

        Assert.True(await silentEnded.WithTimeout(), "the silent client is closed");
        Assert.True(silentFor.Elapsed >= TimeSpan.FromSeconds(1.9), $"the silent client was closed after {silentFor.Elapsed}, before its idle timeout of 2 s");
        await talking.AssertEchoAsync("and now"u8.ToArray());
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsTimedOut] >= 1, "the close is counted as a timeout");
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 1, "only the talking client is left");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Stop_with_clients_connected_returns_promptly_and_leaves_no_thread(string engine)
    {
        EngineCase engineCase = EngineCases.Get(engine);
        var server = RunningServer.Start(engineCase, o => o with { DrainTimeout = TimeSpan.FromSeconds(1) });
        var clients = new List<TestClient>();
        try
        {
            int count = Math.Min(8, engineCase.MaxConcurrentClients);
            for (int i = 0; i < count; i++)
            {
                TestClient client = await server.ConnectAsync();
                clients.Add(client);
                await client.AssertEchoAsync("connected"u8.ToArray());
            }

            // One client mid-transfer: it sends and does not read, so the engine is busy with it.
            // It never reads its echoes, so it cannot drain: stop cuts it at the 1 s drain deadline.
            _ = TestClient.SendAllAsync(clients[0].Socket, new byte[4 * 1024 * 1024]).ContinueWith(
                static t => _ = t.Exception, TaskScheduler.Default); // observed: the stop cuts this send off

            await server.Server.StopAsync().WithTimeout(TimeSpan.FromSeconds(10));
            Assert.Equal(0, server.Statistics[EchoCounter.Threads]);
            foreach (TestClient client in clients.Skip(1))
            {
                Assert.True(await client.ReceiveEndAsync(TimeSpan.FromSeconds(5)), "every client sees its connection end");
            }

            await Assert.ThrowsAnyAsync<SocketException>(() => TestClient.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(5)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Bytes the server has read and not yet sent: bytes in minus bytes out, from a reading in which
    /// both stood still (an event loop publishes its totals once per wait, one counter after the other).
    /// </summary>
    private static async Task<long> HeldBytesAsync(RunningServer server)
    {
        long held = 0;
        await TaskTimeoutExtensions.Eventually(() =>
        {
            long bytesOut = server.Statistics[EchoCounter.BytesOut];
            long bytesIn = server.Statistics[EchoCounter.BytesIn];
            held = bytesIn - bytesOut;
            return server.Statistics[EchoCounter.BytesOut] == bytesOut && server.Statistics[EchoCounter.BytesIn] == bytesIn;
        }, "a reading of bytes in and out with neither moving");
        return held;
    }
}
