using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Support;
using IoModels.Uring;

namespace IoModels.Tests.Interop;

/// <summary>
/// The uring path for kernels without the provided-buffer pool, forced on this one: each connection
/// receives into its own buffer. The conformance suite runs the path this kernel picks; this keeps the
/// other one honest on the points it does differently (echo, backpressure bound, half-close).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UringOwnBuffersTests
{
    [SkippableFact]
    public async Task Without_the_pool_echoes_are_exact_backpressure_holds_and_half_close_gets_every_echo()
    {
        Skip.IfNot(UringSupport.UnsupportedReason is null, UringSupport.UnsupportedReason);
        const int limit = 64 * 1024;
        var options = new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), BufferSize = 16 * 1024, OutputBufferLimit = limit };
        await using var server = new UringEchoServer(options) { ProvidedBuffersAllowed = false };
        server.Start();

        using (TestClient client = await TestClient.ConnectAsync(server.LocalEndPoint))
        {
            await client.AssertEchoAsync(Reference.RandomBytes(100_000, seed: 5));
        }

        // A client that sends 8 MiB and reads nothing: the server holds exactly its limit, then stops reading.
        using (TestClient stalled = await TestClient.ConnectAsync(server.LocalEndPoint))
        {
            byte[] payload = Reference.RandomBytes(8 * 1024 * 1024, seed: 6);
            Task send = stalled.SendAsync(payload);
            await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BufferedBytes] == limit, "the output buffer fills to its limit");
            byte[] echo = await stalled.ReceiveExactlyAsync(payload.Length, TimeSpan.FromSeconds(60));
            await send.WithTimeout();
            Assert.Equal(Reference.Upper(payload), echo);
            Assert.InRange(server.Statistics[EchoCounter.PeakBufferedBytes], 1, limit);
            // One receive per buffer's worth at least: the pool's multishot receives would number far fewer.
            Assert.True(server.Statistics[EchoCounter.ReceiveCalls] >= payload.Length / options.BufferSize, "each connection posts its own receives");
        }

        using (TestClient halfClosed = await TestClient.ConnectAsync(server.LocalEndPoint))
        {
            byte[] last = Reference.RandomBytes(50_000, seed: 7);
            await halfClosed.SendAsync(last);
            halfClosed.Socket.Shutdown(SocketShutdown.Send);
            Assert.Equal(Reference.Upper(last), await halfClosed.ReceiveExactlyAsync(last.Length));
            Assert.True(await halfClosed.ReceiveEndAsync(), "the stream ends after the last echo");
        }

        await server.StopAsync().WithTimeout();
        Assert.Equal(0, server.Statistics[EchoCounter.ReceivesOutOfBuffers]);
        Assert.Equal(0, server.Statistics[EchoCounter.Faults]);
    }
}
