using System.Net.Sockets;
using IoModels.Tests.Conformance;
using IoModels.Tests.Support;
using IoModels.Uring;

namespace IoModels.Tests.Interop;

/// <summary>
/// The uring engine's shared buffer pool: clients that stop reading may hold every buffer of it, and
/// then the others wait in their sockets, losing nothing, until a buffer comes back.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UringProvidedBuffersTests
{
    [SkippableFact]
    public async Task Clients_that_find_the_pool_empty_are_served_once_buffers_come_back()
    {
        Skip.IfNot(UringSupport.ProvidedBuffers, "this kernel runs uring without provided buffers");

        // 1 MiB buffers make the smallest pool, 16, and an output limit of one buffer lets each client
        // hold one. A client holds its buffer once its echoes fill the path back to it, which the
        // kernel's send-buffer autotuning may delay for a few: forty clients make sure sixteen do.
        const int clients = 40;
        const int perClient = 1024 * 1024;
        await using var server = RunningServer.Start(EngineCases.Get("uring"),
            o => o with { BufferSize = 1024 * 1024, OutputBufferLimit = 1024 * 1024 });
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < clients; i++)
            {
                // A small receive buffer: the echo path fills at once, so each server send stays pending on its buffer.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                sockets.Add(socket);
                await socket.ConnectAsync(server.EndPoint).WithTimeout();
            }

            byte[][] payloads = [.. Enumerable.Range(0, clients).Select(i => Reference.RandomBytes(perClient, seed: 100 + i))];
            Task[] sends = [.. sockets.Select((socket, i) => TestClient.SendAllAsync(socket, payloads[i]))];

            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ReceivesOutOfBuffers] > 0,
                "a client's receive finds the pool empty");

            // Now everyone reads: each echo sent gives its buffer back, which arms a waiting client again.
            Task[] reads = [.. sockets.Select(async (socket, i) =>
            {
                byte[] echo = await ReceiveExactlyAsync(socket, perClient);
                Assert.True(Reference.Upper(payloads[i]).AsSpan().SequenceEqual(echo), $"client {i}'s echo differs");
            })];
            await Task.WhenAll(sends).WithTimeout();
            await Task.WhenAll(reads).WithTimeout(TimeSpan.FromSeconds(60));
            Assert.Equal(0, server.Statistics[EchoCounter.Faults]);
        }
        finally
        {
            sockets.ForEach(socket => socket.Dispose());
        }
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int received = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (received < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, deadline.Token);
            Assert.NotEqual(0, n);
            received += n;
        }

        return buffer;
    }
}
