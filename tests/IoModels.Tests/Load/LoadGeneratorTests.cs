using System.Net;
using System.Net.Sockets;
using IoModels.Load;
using IoModels.Tests.Support;

namespace IoModels.Tests.Load;

/// <summary>
/// The load generator measures only what it checked: against a correct engine it counts echoes and no
/// mismatch; against servers that corrupt, close or are missing it says so. No speed is asserted.
/// Every behaviour is checked for both generators: epoll (Linux) and the runtime's sockets.
/// </summary>
public sealed class LoadGeneratorTests
{
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The generators this OS can run: both on Linux, sockets elsewhere.</summary>
    public static TheoryData<LoadGeneratorKind> Generators =>
        OperatingSystem.IsLinux() ? new() { LoadGeneratorKind.Epoll, LoadGeneratorKind.Sockets } : new() { LoadGeneratorKind.Sockets };

    public static TheoryData<LoadGeneratorKind, string, int, int, int> CorrectEngineCases
    {
        get
        {
            var data = new TheoryData<LoadGeneratorKind, string, int, int, int>();
            foreach (LoadGeneratorKind generator in Generators)
            {
                data.Add(generator, "async", 4, 32, 4);
                data.Add(generator, "blocking", 3, 1000, 2);
                data.Add(generator, "async", 2, 5000, 1);
                data.Add(generator, "epoll", 5, 100_000, 3); // more than one recv/send chunk per message
            }

            return data;
        }
    }

    [Fact]
    public async Task Auto_picks_epoll_on_linux_and_sockets_elsewhere()
    {
        await using IEchoServer server = ModelRegistry.Find("async")!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.LocalEndPoint,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(100),
        }).WithTimeout(s_runTimeout);
        Assert.Equal(OperatingSystem.IsLinux() ? LoadGeneratorKind.Epoll : LoadGeneratorKind.Sockets, result.Generator);
    }

    [Theory, MemberData(nameof(CorrectEngineCases))]
    public async Task Against_a_correct_engine_it_counts_echoes_and_no_mismatch(LoadGeneratorKind generator, string model, int connections, int size, int depth)
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
            Generator = generator,
        }).WithTimeout(s_runTimeout);

        Assert.Equal(generator, result.Generator);
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

    [Theory, MemberData(nameof(Generators))]
    public async Task A_server_that_flips_a_bit_is_reported_as_mismatches(LoadGeneratorKind generator)
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
            Generator = generator,
        }).WithTimeout(s_runTimeout);

        Assert.True(result.MismatchedBytes > 0, "the flipped bytes are noticed");
        Assert.True(result.Messages > 0);
        // One byte in 97 is wrong; the count is of wrong bytes, not of messages or chunks (the bound
        // allows for the echoes still in flight when the window closed, which were checked but not counted).
        Assert.True(result.MismatchedBytes <= ((result.Bytes + (2 * 4 * 100)) / 97) + 2, $"{result.MismatchedBytes} mismatches for {result.Bytes} bytes");
    }

    [Theory, MemberData(nameof(Generators))]
    public async Task A_server_that_closes_connections_is_reported_as_errors(LoadGeneratorKind generator)
    {
        await using var server = new FaultyEchoServer(closeAfter: 320);
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.EndPoint,
            Connections = 3,
            MessageSize = 32,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(500),
            Generator = generator,
        }).WithTimeout(s_runTimeout);

        Assert.Equal(3, result.Errors);
        Assert.Equal(0, result.MismatchedBytes);
        Assert.True(result.Messages <= 3 * 10, "no echo is counted beyond what the server sent");
    }

    [Theory, MemberData(nameof(Generators))]
    public async Task Connections_that_cannot_open_are_connect_failures_and_errors(LoadGeneratorKind generator)
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
            Generator = generator,
        }).WithTimeout(s_runTimeout);

        Assert.Equal(0, result.ConnectionsOpened);
        Assert.Equal(2, result.ConnectFailures);
        Assert.Equal(2, result.Errors);
        Assert.Equal(0, result.Messages);
    }

    [Theory, MemberData(nameof(Generators))]
    public async Task With_a_rate_it_sends_on_schedule_instead_of_as_fast_as_it_can(LoadGeneratorKind generator)
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
            Generator = generator,
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

    [Theory, MemberData(nameof(Generators))]
    public async Task Cancelling_a_run_closes_every_connection_and_throws(LoadGeneratorKind generator)
    {
        await using IEchoServer server = ModelRegistry.Find("async")!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.LocalEndPoint,
            Connections = 3,
            Duration = TimeSpan.FromMinutes(5),
            Generator = generator,
        }, cancellation.Token).WithTimeout(s_runTimeout));
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "the server sees every load connection close");
    }

    [SkippableFact]
    public async Task Scale_mode_opens_every_connection_echoes_once_and_holds_them_idle()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "scale mode runs on the epoll generator");
        await using IEchoServer server = ModelRegistry.Find("async")!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        long activeWhileIdle = -1;
        long bytesInWhileIdle = -1;
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.LocalEndPoint,
            Connections = 300,
            MessageSize = 40,
            MessagesPerConnection = 1,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(300),
            Threads = 2,
            PhaseChanged = phase =>
            {
                if (phase == LoadPhase.Finished)
                {
                    activeWhileIdle = server.Statistics[EchoCounter.ConnectionsActive];
                    bytesInWhileIdle = server.Statistics[EchoCounter.BytesIn];
                }
            },
        }).WithTimeout(s_runTimeout);

        Assert.Equal(300, result.ConnectionsOpened);
        Assert.Equal(2, result.Threads);
        Assert.Equal(300, result.Messages); // exactly one echo each, not one more
        Assert.Equal(300, result.Latency.TotalCount);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.MismatchedBytes);
        Assert.NotNull(result.AllEchoedAfter);
        Assert.True(result.AllEchoedAfter >= result.ConnectTime);
        Assert.Equal(300, activeWhileIdle); // still open at the end of the hold
        Assert.Equal(300 * 40, bytesInWhileIdle); // and nothing more was sent while idle
        Assert.True(result.Elapsed >= TimeSpan.FromMilliseconds(250), $"held {result.Elapsed}");
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsActive] == 0, "the server sees every load connection close");
    }

    [SkippableFact]
    public async Task Scale_mode_does_not_wait_for_echoes_from_a_server_that_closed()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "scale mode runs on the epoll generator");
        await using var server = new FaultyEchoServer(closeAfter: 32); // one echo, then the connection is closed
        LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
        {
            EndPoint = server.EndPoint,
            Connections = 4,
            MessageSize = 32,
            MessagesPerConnection = 2,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(100),
            ConnectTimeout = TimeSpan.FromSeconds(20),
        }).WithTimeout(TimeSpan.FromSeconds(15)); // well under the connect timeout it would otherwise wait out

        Assert.Equal(4, result.Errors);
        Assert.Equal(4, result.Messages); // the first echo of each, never the second
        Assert.NotNull(result.AllEchoedAfter); // every connection has all the echoes it will ever get
    }

    [SkippableFact]
    public async Task The_epoll_generator_speaks_ipv6_too()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Socket.OSSupportsIPv6, "needs Linux and IPv6");
        IEchoServer server = ModelRegistry.Find("epoll")!.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0) });
        try
        {
            server.Start();
        }
        catch (SocketException exception)
        {
            await server.DisposeAsync();
            Skip.If(true, $"no IPv6 loopback here: {exception.Message}");
        }

        await using (server)
        {
            LoadResult result = await LoadGenerator.RunAsync(new LoadOptions
            {
                EndPoint = server.LocalEndPoint,
                Connections = 3,
                Warmup = TimeSpan.Zero,
                Duration = TimeSpan.FromMilliseconds(300),
                Generator = LoadGeneratorKind.Epoll,
            }).WithTimeout(s_runTimeout);
            Assert.Equal(3, result.ConnectionsOpened);
            Assert.True(result.Messages > 0);
            Assert.Equal(0, result.Errors + result.MismatchedBytes);
        }
    }

    [Fact]
    public async Task Bad_options_are_rejected_before_anything_connects()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { Connections = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { Threads = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { MessagesPerConnection = 1, Generator = LoadGeneratorKind.Sockets }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { MessagesPerConnection = 1, Rate = 10 }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { Rate = -1 }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { MessageSize = 0 }));
    }
}
