using System.Globalization;
using System.Text.RegularExpressions;
using IoModels.Tests.Support;

namespace IoModels.Tests.Epoll;

/// <summary>
/// Running out of descriptors on accept. A level-triggered listener with a connection it cannot
/// accept stays readable, so an engine that kept watching it would return from epoll_wait at once,
/// forever: the epoll engine must stop watching the listener while it backs off. The server runs as a
/// child process with a low descriptor limit, so only it runs out.
/// </summary>
public sealed partial class EpollAcceptBackoffTests
{
    /// <summary>The child's descriptor limit: the runtime needs about 80 to start, which leaves room for roughly a hundred clients.</summary>
    private const int FileLimit = 200;

    /// <summary>More clients than the server has descriptors for; the kernel completes every handshake into the backlog anyway.</summary>
    private const int Clients = 250;

    [SkippableTheory]
    [InlineData("level-triggered")]
    [InlineData("edge-triggered")]
    public async Task Out_of_descriptors_the_server_backs_off_without_spinning_and_serves_the_waiting_clients_later(string mode)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "epoll, and the child's limit is set with sh's ulimit");
        string[] args = ["serve", "--model", "epoll", "--port", "0"];
        await using CliProcess server = CliProcess.StartWithDescriptorLimit(FileLimit, mode == "edge-triggered" ? [.. args, "--edge-triggered"] : args);
        int port = await server.WaitForServingPortAsync();
        var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port);

        var clients = new List<TestClient>(Clients);
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(await TestClient.ConnectAsync(endPoint));
            }

            await clients[0].AssertEchoAsync("first"u8.ToArray());
            await TaskTimeoutExtensions.Eventually(() => server.Stderr.Contains("cannot accept", StringComparison.Ordinal), "the server logs that it backs off");

            // The last client is still in the backlog: its echo can come only once descriptors are free.
            TestClient late = clients[^1];
            await late.SendAsync("late"u8.ToArray());
            Task<byte[]> lateEcho = late.ReceiveExactlyAsync(4, TimeSpan.FromSeconds(40));
            await Task.Delay(TimeSpan.FromSeconds(1)); // a second of back-off: a spinning loop would wait millions of times
            Assert.False(lateEcho.IsCompleted, "the last client cannot have been accepted while the server is out of descriptors");

            // Free the server's descriptors: every other client leaves (the backlog is served in order).
            foreach (TestClient client in clients.Take(Clients - 1))
            {
                client.Dispose();
            }

            Assert.Equal("LATE"u8.ToArray(), await lateEcho.WithTimeout(TimeSpan.FromSeconds(40)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(Counter(server.Stdout, "accept backoffs") > 0, server.Stdout);
        Assert.InRange(Counter(server.Stdout, "waits"), 1, 20_000);
    }

    private static long Counter(string summary, string label)
    {
        Match match = Regex.Match(summary, "^\\s+" + label + "\\s+([\\d,]+)\\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"'{label}' in: {summary}");
        return long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
    }
}
