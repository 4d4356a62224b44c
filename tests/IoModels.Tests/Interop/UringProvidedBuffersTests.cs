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

    [SkippableTheory]
    [InlineData(16 * 1024, 4096)]
    [InlineData(4096, 4096)]
    [InlineData(5000, 4096)]
    [InlineData(3000, 4096)]
    [InlineData(100, 128)]
    [InlineData(16, 64)]
    public unsafe void Buffers_start_on_a_page_or_within_one_and_do_not_overlap(int size, int alignment)
    {
        WithPool(size, buffers =>
        {
            for (int id = 0; id < buffers.Count; id++)
            {
                Assert.Equal(0, (long)buffers.Address(id) % alignment);
                if (size <= 4096)
                {
                    Assert.Equal((long)buffers.Address(id) / 4096, ((long)buffers.Address(id) + size - 1) / 4096); // within one page
                }

                if (id > 0)
                {
                    Assert.True(buffers.Address(id) - buffers.Address(id - 1) >= size, $"buffer {id} overlaps buffer {id - 1}");
                }
            }
        });
    }

    [SkippableFact]
    public void The_ring_is_lent_a_window_of_the_pool_that_doubles_only_when_a_refill_left_spares()
    {
        WithPool(16 * 1024, buffers =>
        {
            Assert.Equal(1024, buffers.Count);
            Assert.Equal(64, buffers.Window);
            Assert.Equal(64, buffers.Lent); // not all 1,024: the rest wait as spares

            // The kernel filled all 64 (as completions would say), then the ring ran dry: the next refill lends 128.
            Filled(buffers, from: 0, count: 64);

            Assert.Equal(0, buffers.Lent);
            buffers.Widen();
            buffers.Widen(); // many receives may run dry in one pass: the window still doubles once
            buffers.Refill();
            Assert.Equal(128, buffers.Window);
            Assert.Equal(128, buffers.Lent);
            Assert.Equal(64, buffers.Held);

            // Echoes sent: the buffers are spare, and lent again only up to the window.
            for (int id = 0; id < 64; id++)
            {
                buffers.Recycle(id);
            }

            Assert.Equal(0, buffers.Held);
            buffers.Refill();
            Assert.Equal(128, buffers.Lent);
            Assert.Equal(buffers.Count, buffers.Free);
        });
    }

    [SkippableFact]
    public void A_dry_ring_with_no_spares_left_does_not_widen_the_window()
    {
        WithPool(16 * 1024, buffers =>
        {
            // Every buffer ends up held, 64 at a time: when the last 64 are taken there is nothing left to lend.
            for (int batch = 0; batch < buffers.Count / 64; batch++)
            {
                Filled(buffers, from: batch * 64, count: 64);
                buffers.Refill();
            }

            Assert.Equal(0, buffers.Free);
            buffers.Widen(); // ENOBUFS now means every buffer is held: a wider window would lend nothing
            buffers.Refill();
            Assert.Equal(64, buffers.Window);
        });
    }

    [SkippableFact]
    public void Buffers_given_back_are_lent_again_most_recent_first()
    {
        WithPool(16 * 1024, buffers =>
        {
            Filled(buffers, from: 0, count: 64);
            buffers.Recycle(10);
            buffers.Recycle(20); // the warmest
            buffers.Refill(); // lends 64: 20, 10, then spares never used

            Assert.Equal(20, buffers.PublishedId(63));
            Assert.Equal(10, buffers.PublishedId(62));
            Assert.Equal(64, buffers.PublishedId(61));
        });
    }

    /// <summary>What the loop does for completions that say the kernel filled <paramref name="count"/> buffers from id <paramref name="from"/>.</summary>
    private static void Filled(ProvidedBuffers buffers, int from, int count)
    {
        for (int id = from; id < from + count; id++)
        {
            buffers.Take(id, length: 32);
        }
    }

    /// <summary>Skips where the kernel has no provided buffers; else registers a pool on a ring of its own, runs <paramref name="check"/>, and frees both in the order the kernel needs.</summary>
    private static void WithPool(int size, Action<ProvidedBuffers> check)
    {
        Skip.IfNot(UringSupport.ProvidedBuffers, "this kernel runs uring without provided buffers");
        var ring = new Ring(2, 4);
        ProvidedBuffers? buffers = null;
        try
        {
            buffers = ProvidedBuffers.TryRegister(ring.Fd, size, out int errno)
                ?? throw new InvalidOperationException($"registering failed: errno {errno}");
            check(buffers);
        }
        finally
        {
            ring.Dispose(); // first: closing the ring unregisters the buffer ring before its memory goes
            buffers?.Dispose();
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
