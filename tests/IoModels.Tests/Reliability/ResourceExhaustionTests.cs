using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using IoModels.Tests.Support;

namespace IoModels.Tests.Reliability;

/// <summary>
/// A real <c>iomodels serve</c> run out of file descriptors: more clients than it can hold connect,
/// and it must keep serving the ones it accepted, back off instead of spinning on EMFILE, log the
/// condition once per burst, and take the waiting clients once others leave. (The idle timeout and
/// the connection limit, the other two ways a server sheds clients, are in the conformance suite:
/// <c>The_idle_timeout_closes_a_silent_client_and_spares_a_talking_one</c> and
/// <c>The_connection_limit_refuses_the_extra_client_and_serves_the_rest</c>.)
/// </summary>
public sealed partial class ResourceExhaustionTests
{
    /// <summary>
    /// The child's descriptor limit: 320, well above what the runtime needs (about 75 open, plus the 64 the engines keep in reserve)
    /// and well below the <see cref="Clients"/> that connect, so the server runs out mid-burst.
    /// </summary>
    private const int DescriptorLimit = 320;

    private const int Clients = 400;

    /// <summary>
    /// CPU the backing-off server may use, in cores: a spinning accept loop uses a whole one; backing
    /// off (at most one accept a second once the delay has grown) uses next to nothing. Loose because
    /// the machine is shared and the logging and runtime threads cost something.
    /// </summary>
    private const double MaxCoresWhileBackingOff = 0.25;

    public static TheoryData<string> Models => [.. ModelRegistry.All.Select(m => m.Name)];

    [SkippableTheory, MemberData(nameof(Models))]
    public async Task Out_of_descriptors_the_server_keeps_serving_backs_off_quietly_and_recovers(string model)
    {
        Skip.IfNot(ProcessProbe.IsAvailable && File.Exists("/usr/bin/prlimit"), "needs Linux /proc and prlimit(1)");
        ModelInfo info = ModelRegistry.Find(model)!;
        Skip.IfNot(info.IsSupported, $"{model} is not available on this OS: {info.UnsupportedReason}");

        // The polling loop spins a core by design (that is its lesson); with a poll interval it
        // sleeps when idle (10 ms: a sweep over a few hundred idle sockets costs well under 1 ms),
        // so a spin here can only come from mishandled exhaustion.
        string[] args = model == "nonblocking"
            ? ["serve", "--model", model, "--port", "0", "--poll-interval", "10ms"]
            : ["serve", "--model", model, "--port", "0"];
        await using CliProcess server = CliProcess.StartWithDescriptorLimit(DescriptorLimit, args);
        int port = await server.WaitForServingPortAsync();
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);

        var clients = new List<TestClient>(Clients);
        try
        {
            // Every connect completes: the kernel finishes the handshake and queues what the server cannot accept.
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(await TestClient.ConnectAsync(endPoint));
            }

            byte[][] greetings = [.. Enumerable.Range(0, Clients).Select(i => System.Text.Encoding.ASCII.GetBytes($"client {i} says hello"))];
            Task<byte[]>[] echoes = new Task<byte[]>[Clients];
            for (int i = 0; i < Clients; i++)
            {
                await clients[i].SendAsync(greetings[i]);
                echoes[i] = clients[i].ReceiveExactlyAsync(greetings[i].Length, TimeSpan.FromSeconds(120));
            }

            // The server fills its descriptor table, then backs off: it logs that once and accepts no more.
            await TaskTimeoutExtensions.Eventually(() => BackoffLines(server.Stderr) >= 1, "the server logs that it is out of descriptors");
            int accepted = AcceptedLines(server.Stderr);
            await TaskTimeoutExtensions.Eventually(() => echoes.Count(e => e.IsCompleted) >= AcceptedLines(server.Stderr),
                "every accepted client has its echo");
            accepted = AcceptedLines(server.Stderr);
            Assert.InRange(accepted, 50, Clients - 1);
            for (int i = 0; i < Clients; i++)
            {
                if (echoes[i].IsCompleted)
                {
                    Assert.Equal(Reference.Upper(greetings[i]), await echoes[i]);
                }
            }

            // While it waits for descriptors it must not spin: sample its CPU over two seconds.
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // let the back-off grow towards its 1 s ceiling
            int linesBefore = BackoffLines(server.Stderr);
            TimeSpan cpuBefore = ProcessProbe.CpuTime(server.Id);
            var window = System.Diagnostics.Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(2));
            double cores = (ProcessProbe.CpuTime(server.Id) - cpuBefore) / window.Elapsed;
            Assert.True(cores < MaxCoresWhileBackingOff, $"the server used {cores:0.00} cores while out of descriptors: it spins");
            Assert.Equal(accepted, AcceptedLines(server.Stderr)); // nothing accepted while the table was full
            // The accept loop retried all along (the final statistics count each failure), yet logged nothing more.
            Assert.Equal(linesBefore, BackoffLines(server.Stderr));

            // Clients leave: descriptors come back, and the waiting clients are accepted and served.
            var served = Enumerable.Range(0, Clients).Where(i => echoes[i].IsCompleted).ToList();
            foreach (int i in served)
            {
                clients[i].Dispose();
            }

            // Each waiting client leaves once served, making room for the next (more wait than fit at once).
            await Task.WhenAll(Enumerable.Range(0, Clients).Where(i => !served.Contains(i)).Select(async i =>
            {
                Assert.Equal(Reference.Upper(greetings[i]), await echoes[i]);
                clients[i].Dispose();
            })).WithTimeout(TimeSpan.FromSeconds(120));

            using (TestClient fresh = await TestClient.ConnectAsync(endPoint))
            {
                await fresh.AssertEchoAsync("served after the storm"u8.ToArray());
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Match backoffs = BackoffCounter().Match(server.Stdout);
        Assert.True(backoffs.Success, $"the final statistics count the back-offs: {server.Stdout}");
        long failures = long.Parse(backoffs.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(failures > BackoffLines(server.Stderr), $"{failures} failed accepts, {BackoffLines(server.Stderr)} log lines: each burst is logged once");
    }

    private static int BackoffLines(string log) => Regex.Count(log, "cannot accept");

    private static int AcceptedLines(string log) => Regex.Count(log, " accepted #");

    [GeneratedRegex(@"accept backoffs\s+([\d,]+)")]
    private static partial Regex BackoffCounter();
}
