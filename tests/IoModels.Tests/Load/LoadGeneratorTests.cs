using System.Net;
using System.Net.Sockets;
using IoModels.Load;
using IoModels.Tests.Support;

namespace IoModels.Tests.Load;

/// <summary>
/// The load generator measures only what it checked: against a correct engine it counts echoes and no
/// mismatch; against servers that corrupt, close or are missing it says so. No speed is asserted.
/// </summary>
public sealed class LoadGeneratorTests
{
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("async", 4, 32, 4)]
    [InlineData("blocking", 3, 1000, 2)]
    [InlineData("async", 2, 5000, 1)]
    public async Task Against_a_correct_engine_it_counts_echoes_and_no_mismatch(string model, int connections, int size, int depth)
    {
        await using IEchoServer server = ModelRegistry.Find(model)!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();

        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.LocalEndPoint,
            Connections = connections,
            MessageSize = size,
            Depth = depth,
            Warmup = TimeSpan.FromMilliseconds(200),
            Duration = TimeSpan.FromSeconds(1),
        }).WithTimeout(s_runTimeout);

        Assert.Equal(connections, result.ConnectionsOpened);
        Assert.Equal(0, result.MismatchedBytes);
        Assert.Equal(0, result.Errors);
        Assert.True(result.Messages > 0, "some echoes completed in the measured window");
        Assert.Equal(result.Messages, result.Latency.TotalCount);
        Assert.True(result.MessagesPerSecond > 0);
        Assert.Equal(result.Messages * size, result.Bytes);
        Assert.True(result.LatencyAt(50) > TimeSpan.Zero && result.LatencyAt(50) <= result.LatencyMax);
        // Every message counted was echoed in full: the server received at least that many bytes.
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "the server sees every load connection close");
        Assert.True(server.Statistics[EchoCounter.BytesOut] >= result.Bytes);
    }

    [Fact]
    public async Task A_server_that_flips_a_bit_is_reported_as_mismatches()
    {
        await using var server = new FaultyEchoServer(corruptEvery: 97);
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.EndPoint,
            Connections = 2,
            MessageSize = 100,
            Depth = 4,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(500),
        }).WithTimeout(s_runTimeout);

        Assert.True(result.MismatchedBytes > 0, "the flipped bytes are noticed");
        Assert.True(result.Messages > 0);
        // One byte in 97 is wrong; the count is of wrong bytes, not of messages or chunks (the bound
        // allows for the echoes still in flight when the window closed, which were checked but not counted).
        Assert.True(result.MismatchedBytes <= ((result.Bytes + (2 * 4 * 100)) / 97) + 2, $"{result.MismatchedBytes} mismatches for {result.Bytes} bytes");
    }

    [Fact]
    public async Task A_server_that_closes_connections_is_reported_as_errors()
    {
        await using var server = new FaultyEchoServer(closeAfter: 320);
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.EndPoint,
            Connections = 3,
            MessageSize = 32,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(500),
        }).WithTimeout(s_runTimeout);

        Assert.Equal(3, result.Errors);
        Assert.Equal(0, result.MismatchedBytes);
        Assert.True(result.Messages <= 3 * 10, "no echo is counted beyond what the server sent");
    }

    [Fact]
    public async Task Connections_that_cannot_open_are_connect_failures_and_errors()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // free a moment ago, no listener now
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, port),
            Connections = 2,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(100),
        }).WithTimeout(s_runTimeout);

        Assert.Equal(0, result.ConnectionsOpened);
        Assert.Equal(2, result.ConnectFailures);
        Assert.Equal(2, result.Errors);
        Assert.Equal(0, result.Messages);
    }

    [Fact]
    public async Task With_a_rate_it_sends_on_schedule_instead_of_as_fast_as_it_can()
    {
        await using IEchoServer server = ModelRegistry.Find("async")!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        const double rate = 200;
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.LocalEndPoint,
            Connections = 4,
            Depth = 8,
            Rate = rate,
            Warmup = TimeSpan.FromMilliseconds(200),
            Duration = TimeSpan.FromSeconds(1),
        }).WithTimeout(s_runTimeout);

        Assert.Equal(0, result.MismatchedBytes);
        Assert.Equal(0, result.Errors);
        Assert.True(result.Messages > 0);
        // The schedule is an upper bound whatever the machine's load: at most the window's worth, plus
        // what a stall during the warm-up (a cold JIT, a busy CI core) left to catch up, plus every
        // message in flight at the edges. As fast as it can would be thousands.
        double bound = (rate * (result.Elapsed + TimeSpan.FromMilliseconds(200)).TotalSeconds) + (4 * 8);
        Assert.True(result.Messages <= bound, $"{result.Messages} messages in {result.Elapsed} at {rate}/s (bound {bound})");
    }

    [Fact]
    public async Task Cancelling_a_run_closes_every_connection_and_throws()
    {
        await using IEchoServer server = ModelRegistry.Find("async")!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.LocalEndPoint,
            Connections = 3,
            Duration = TimeSpan.FromMinutes(5),
        }, cancellation.Token).WithTimeout(s_runTimeout));
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "the server sees every load connection close");
    }

    [Fact]
    public async Task Bad_options_are_rejected_before_anything_connects()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { Connections = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { Rate = -1 }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { MessageSize = 0 }));
    }
}
