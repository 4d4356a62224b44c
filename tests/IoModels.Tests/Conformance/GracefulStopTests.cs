using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests.Conformance;

/// <summary>
/// Stop drains, in every engine: no new reads, every byte already read is echoed, then FIN; only a
/// connection still holding unsent echoes at the drain deadline is reset.
/// </summary>
public sealed class GracefulStopTests
{
    public static TheoryData<string> Engines => EngineCases.Names;

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Stop_while_clients_stream_echoes_every_byte_read_then_FIN(string engine)
    {
        EngineCase engineCase = EngineCases.Get(engine);
        await using var server = RunningServer.Start(engineCase, o => o with { DrainTimeout = TimeSpan.FromSeconds(10) });
        int count = Math.Min(8, engineCase.MaxConcurrentClients);
        var clients = new List<StreamingClient>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                clients.Add(await StreamingClient.StartAsync(server.EndPoint, seed: i));
            }

            // Every client is mid-stream: echoes have come back to each, and more is on the way.
            try
            {
                await TaskTimeoutExtensions.Eventually(() => clients.All(c => c.Received >= 32 * 1024), "every client has had 32 KiB of echo");
            }
            catch (TimeoutException exception) // say where each client got to: the failure this wait is for
            {
                throw new TimeoutException($"{exception.Message} ({string.Join("; ", clients.Select(c => c.State))}; server: {Counters(server)})", exception);
            }

            await server.Server.StopAsync().WithTimeout(TimeSpan.FromSeconds(20));
            await Task.WhenAll(clients.Select(c => c.Finished)).WithTimeout();

            foreach (StreamingClient client in clients)
            {
                Assert.True(client.Mismatch is null, client.Mismatch);
                Assert.True(client.EndedWithFin, $"client {client.Seed} ended with {client.EndError}, not FIN, after {client.Received} bytes");
            }

            long echoed = clients.Sum(c => c.Received);
            string counters = Counters(server);
            Assert.Equal(server.Statistics[EchoCounter.BytesIn], echoed); // every byte the server read came back
            Assert.Equal(server.Statistics[EchoCounter.BytesOut], echoed);
            Assert.True(count == server.Statistics[EchoCounter.ConnectionsDrained], $"{count} clients, not all drained: {counters}");
            Assert.Equal(0, server.Statistics[EchoCounter.BytesNotEchoed]);
        }
        finally
        {
            foreach (StreamingClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task Stop_gives_a_silent_client_FIN_at_once(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { DrainTimeout = TimeSpan.FromSeconds(20) });
        using TestClient client = await server.ConnectAsync();
        await client.AssertEchoAsync("quiet now"u8.ToArray());

        Task stop = server.Server.StopAsync();
        byte[] buffer = new byte[16];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // half the drain deadline: a reset at the deadline cannot pass
        int n = await client.Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        Assert.Equal(0, n); // FIN, not data and not a reset (a reset would throw)
        client.Socket.Dispose();
        await stop.WithTimeout();
        Assert.Equal(1, server.Statistics[EchoCounter.ConnectionsDrained]);
        Assert.Equal(0, server.Statistics[EchoCounter.ConnectionsCutAtStop]);
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_client_that_stops_reading_is_reset_at_the_drain_deadline(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { DrainTimeout = TimeSpan.FromMilliseconds(500) });
        using TestClient stalled = await server.ConnectAsync();
        stalled.Socket.ReceiveBufferSize = 4096;
        using var sending = new CancellationTokenSource();
        byte[] chunk = new byte[64 * 1024];
        Task flood = Task.Run(async () =>
        {
            try
            {
                while (!sending.IsCancellationRequested)
                {
                    await stalled.Socket.SendAsync(chunk, SocketFlags.None, sending.Token);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Expected: the flood ends when the test cancels it or the server resets the connection.
            }
        });

        // The server has read more than the client's windows can hold: echoes are stuck on its side.
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesIn] > 2 * server.Options.OutputBufferLimit, "the server read more than it could echo");

        await server.Server.StopAsync().WithTimeout(TimeSpan.FromSeconds(15));
        await sending.CancelAsync();
        await flood.WithTimeout();
        string counters = Counters(server);
        Assert.True(server.Statistics[EchoCounter.ConnectionsCutAtStop] == 1, $"not cut at the deadline: {counters}");
        Assert.True(server.Statistics[EchoCounter.ConnectionsDrained] == 0, $"drained: {counters}");
    }

    private static string Counters(RunningServer server) =>
        string.Join(", ", server.Statistics.Snapshot().NonZero().Select(p => $"{p.Counter} {p.Value}"));

    /// <summary>A client that sends a deterministic stream and reads its echo at the same time, checking every byte, until the server ends the stream.</summary>
    private sealed class StreamingClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly CancellationTokenSource _stopSending = new();
        /// <summary>Bytes sent and not yet echoed at most: a streaming client, not a flood (the stalled-reader test is the flood).</summary>
        private const long MaxInFlight = 256 * 1024;

        private readonly SemaphoreSlim _progress = new(0);
        private long _received;
        private long _sent;

        private StreamingClient(Socket socket, int seed)
        {
            _socket = socket;
            Seed = seed;
        }

        public int Seed { get; }

        public long Received => Interlocked.Read(ref _received);

        public string? Mismatch { get; private set; }

        public bool EndedWithFin { get; private set; }

        public SocketError? EndError { get; private set; }

        public Task Finished { get; private set; } = Task.CompletedTask;

        /// <summary>For a failure message: how far this client got and how it ended, if it did.</summary>
        public string State => $"client {Seed}: {Received} received, sent {Interlocked.Read(ref _sent)}, fin {EndedWithFin}, error {EndError}, {Finished.Status} {Finished.Exception?.GetBaseException().Message}";

        public static async Task<StreamingClient> StartAsync(System.Net.IPEndPoint endPoint, int seed)
        {
            TestClient connected = await TestClient.ConnectAsync(endPoint);
            var client = new StreamingClient(connected.Socket, seed);
            Task send = Task.Run(client.SendAsync);
            Task receive = Task.Run(client.ReceiveAsync);
            client.Finished = client.CloseAfterAsync(send, receive);
            return client;
        }

        /// <summary>
        /// Closes once both directions are done, with FIN: the server discards input until it sees this.
        /// (Disposing a socket with a send still pending would make .NET close it abortively.)
        /// </summary>
        private async Task CloseAfterAsync(Task send, Task receive)
        {
            await Task.WhenAll(send, receive); // bounded: each send and receive has its own deadline
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Expected when the connection already ended with a reset; that was recorded as EndError.
            }

            _socket.Dispose();
        }

        private async Task SendAsync()
        {
            byte[] chunk = new byte[8 * 1024];
            long position = 0;
            try
            {
                // No cancellation token: a draining server reads (and discards) what we send, so each send completes.
                while (!_stopSending.IsCancellationRequested)
                {
                    while (Interlocked.Read(ref _sent) - Received > MaxInFlight && !_stopSending.IsCancellationRequested)
                    {
                        await _progress.WaitAsync(TimeSpan.FromMilliseconds(100)); // released by each receive; the timeout re-checks for stop
                    }

                    for (int i = 0; i < chunk.Length; i++)
                    {
                        chunk[i] = Reference.StreamByte(position + i, Seed);
                    }

                    int sent = await _socket.SendAsync(chunk, SocketFlags.None).WithTimeout();
                    position += sent; // a short send only happens as the socket ends; the rest is never checked
                    Interlocked.Add(ref _sent, sent);
                    if (sent < chunk.Length)
                    {
                        return;
                    }
                }
            }
            catch (SocketException)
            {
                // Expected when the connection is reset; the receiving side records how it ended.
            }
        }

        private async Task ReceiveAsync()
        {
            byte[] buffer = new byte[16 * 1024];
            long position = 0;
            try
            {
                while (true)
                {
                    int n = await _socket.ReceiveAsync(buffer, SocketFlags.None).WithTimeout();
                    if (n == 0)
                    {
                        EndedWithFin = true;
                        return;
                    }

                    for (int i = 0; i < n && Mismatch is null; i++)
                    {
                        byte expected = Reference.Upper(Reference.StreamByte(position + i, Seed));
                        if (buffer[i] != expected)
                        {
                            Mismatch = $"client {Seed}: byte {position + i} came back as 0x{buffer[i]:x2}, expected 0x{expected:x2}";
                        }
                    }

                    position += n;
                    Interlocked.Add(ref _received, n);
                    _progress.Release();
                }
            }
            catch (SocketException exception)
            {
                EndError = exception.SocketErrorCode;
            }
            finally
            {
                await _stopSending.CancelAsync(); // the sender stops after the send in progress
            }
        }

        public void Dispose()
        {
            _stopSending.Cancel();
            _socket.Dispose();
            _stopSending.Dispose();
            _progress.Dispose();
        }
    }
}
