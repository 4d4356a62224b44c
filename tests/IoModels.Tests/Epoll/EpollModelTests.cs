using IoModels.Epoll;

namespace IoModels.Tests.Epoll;

/// <summary>The registry's epoll entry says which kernel facility it uses here, or why it cannot run.</summary>
public sealed class EpollModelTests
{
    [Fact]
    public void The_registry_entry_names_this_OS_mechanism_or_why_it_is_missing()
    {
        ModelInfo model = ModelRegistry.Find("epoll")!;
        Assert.NotNull(model);
        string? expected = OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? "kqueue" : null;
        Assert.Equal(expected, model.Mechanism);
        Assert.Equal(expected is not null, model.IsSupported);
        if (expected is null)
        {
            Assert.Contains("epoll", model.UnsupportedReason, StringComparison.Ordinal);
            Assert.Throws<PlatformNotSupportedException>(() => model.Create(new EchoServerOptions()));
        }
    }

    [SkippableFact]
    public async Task Several_loops_on_Linux_each_listen_on_the_same_port_and_all_stop()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "SO_REUSEPORT listeners per loop are the Linux arrangement");
        await using IEchoServer server = EpollModel.Create(new EchoServerOptions
        {
            EndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            Loops = 3,
        });
        server.Start();
        Assert.Equal(3, server.Statistics[EchoCounter.Threads]);

        // The kernel spreads connections over the three listeners by a hash of the client's port:
        // every one of them must be served, whichever loop it landed on.
        var clients = new List<Support.TestClient>();
        try
        {
            for (int i = 0; i < 30; i++)
            {
                Support.TestClient client = await Support.TestClient.ConnectAsync(server.LocalEndPoint);
                clients.Add(client);
                await client.AssertEchoAsync("which loop?"u8.ToArray());
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        await Support.TaskTimeoutExtensions.WithTimeout(server.StopAsync());
        Assert.Equal(0, server.Statistics[EchoCounter.Threads]);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => Support.TestClient.ConnectAsync(server.LocalEndPoint, TimeSpan.FromSeconds(5)));
    }
}
