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
        // hold one. A client holds its buffer once its echoes fill the path back to it, and the kernel
        // autotunes the server's send buffer up to 4 MiB: streams of 8 MiB make sure every client
        // stalls, so twenty hold all sixteen buffers and four find none, until the others read.
        const int clients = 20;
        const long perClient = 8L * 1024 * 1024;
        await using var server = RunningServer.Start(EngineCases.Get("uring"),
            o => o with { BufferSize = 1024 * 1024, OutputBufferLimit = 1024 * 1024 });
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < clients; i++)
            {
                // A small receive buffer: the echo path back to the client fills sooner.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                sockets.Add(socket);
                await socket.ConnectAsync(server.EndPoint).WithTimeout();
            }

            Task[] sends = [.. sockets.Select((socket, i) => SendStreamAsync(socket, perClient, seed: 100 + i))];

            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ReceivesOutOfBuffers] > 0,
                "a client's receive finds the pool empty");

            // Now everyone reads: each echo sent gives its buffer back, which arms a waiting client again.
            Task[] reads = [.. sockets.Select((socket, i) => ReadStreamAsync(socket, perClient, seed: 100 + i))];
            await Task.WhenAll(reads).WithTimeout(TimeSpan.FromSeconds(90));
            await Task.WhenAll(sends).WithTimeout();
            Assert.Equal(0, server.Statistics[EchoCounter.Faults]);
        }
        finally
        {
            sockets.ForEach(socket => socket.Dispose());
        }
    }

    private static async Task SendStreamAsync(Socket socket, long total, int seed)
    {
        byte[] chunk = new byte[64 * 1024];
        for (long sent = 0; sent < total; sent += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, total - sent);
            for (int i = 0; i < n; i++)
            {
                chunk[i] = Reference.StreamByte(sent + i, seed);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            for (int offset = 0; offset < n;)
            {
                offset += await socket.SendAsync(chunk.AsMemory(offset, n - offset), SocketFlags.None, deadline.Token);
            }
        }
    }

    private static async Task ReadStreamAsync(Socket socket, long total, int seed)
    {
        byte[] buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        for (long received = 0; received < total;)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.NotEqual(0, n);
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != Reference.Upper(Reference.StreamByte(received + i, seed)))
                {
                    Assert.Fail($"byte {received + i} of stream {seed} differs");
                }
            }

            received += n;
        }
    }
}
