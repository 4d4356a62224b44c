using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using IoModels.Tests.Support;

namespace IoModels.Tests.Scale;

/// <summary>
/// The epoll engine at the scale it exists for: 10,000 clients connected at once, each served. The
/// server runs as a child process (`iomodels serve`), because 10,000 connections are 20,000
/// descriptors (both ends) and one process here may hold at most 20,000; the clients stay in the
/// test process. Bounded: every phase has a deadline, and everything is closed at the end.
/// </summary>
[Trait("Category", "Scale")]
public sealed partial class TenThousandConnectionsTests
{
    private const int Clients = 10_000;

    /// <summary>Connects started at once: well under the 4,096 listen backlog, so no SYN is dropped and retried.</summary>
    private const int ConnectWave = 500;

    [SkippableFact]
    public async Task Ten_thousand_concurrent_clients_on_epoll_each_get_their_echo()
    {
        ModelInfo model = ModelRegistry.Find("epoll")!;
        Skip.IfNot(model.IsSupported, $"epoll is not available on this OS: {model.UnsupportedReason}");
        await using CliProcess server = CliProcess.Start("serve", "--model", "epoll", "--port", "0", "--max-connections", "20000");
        int port = await server.WaitForServingPortAsync();
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);

        var clients = new TestClient?[Clients];
        try
        {
            // All connected first, so the 10,000 are truly open at the same time...
            for (int start = 0; start < Clients; start += ConnectWave)
            {
                int first = start;
                await Task.WhenAll(Enumerable.Range(first, Math.Min(ConnectWave, Clients - first)).Select(async i =>
                    clients[i] = await TestClient.ConnectAsync(endPoint, TimeSpan.FromSeconds(20)))).WithTimeout(TimeSpan.FromSeconds(30));
            }

            // ...then every one sends its own message and must get exactly its own uppercase back.
            await Task.WhenAll(clients.Select((client, i) => Task.Run(async () =>
            {
                byte[] message = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"client {i} says hello"));
                await client!.SendAsync(message);
                byte[] echo = await client.ReceiveExactlyAsync(message.Length, TimeSpan.FromSeconds(30));
                Assert.Equal(Reference.Upper(message), echo);
            }))).WithTimeout(TimeSpan.FromSeconds(40));
        }
        finally
        {
            foreach (TestClient? client in clients)
            {
                client?.Dispose();
            }
        }

        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Match peak = PeakConnections().Match(server.Stdout);
        Assert.True(peak.Success, server.Stdout);
        Assert.Equal(Clients, int.Parse(peak.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
        Assert.DoesNotMatch("connections rejected", server.Stdout);
    }

    [GeneratedRegex(@"peak connections\s+([\d,]+)")]
    private static partial Regex PeakConnections();
}
