using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests.Cli;

/// <summary>The <c>iomodels</c> executable end to end: real processes, real sockets on loopback.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Models_lists_every_registered_model_with_its_availability()
    {
        (int exitCode, string stdout, _) = await CliProcess.RunAsync(null, "models");
        Assert.Equal(0, exitCode);
        string[] lines = stdout.Split('\n');
        foreach (ModelInfo model in ModelRegistry.All)
        {
            string line = Assert.Single(lines, l => l.StartsWith(model.Name + " ", StringComparison.Ordinal));
            Assert.Contains(model.IsSupported ? "; available" : "; unavailable", line, StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [InlineData("blocking")]
    [InlineData("async")]
    [InlineData("nonblocking")]
    [InlineData("select")]
    [InlineData("epoll")]
    public async Task Serve_and_a_piped_client_round_trip_then_sigterm_prints_the_summary(string model)
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        await using CliProcess server = CliProcess.Start("serve", "--model", model, "--port", "0");
        int port = await server.WaitForServingPortAsync();

        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync("hello world\n\nzürich 123\n", "client", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exitCode == 0, stderr);
        Assert.Equal(["HELLO WORLD", "ZüRICH 123"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("final statistics", server.Stdout, StringComparison.Ordinal);
        Assert.Contains("bytes in", server.Stdout, StringComparison.Ordinal);
        Assert.Contains("closed #", server.Stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string> Models => [.. ModelRegistry.All.Select(m => m.Name)];

    [SkippableTheory, MemberData(nameof(Models))]
    public async Task Sigterm_drains_a_connected_client_with_FIN_and_says_so(string model)
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        ModelInfo info = ModelRegistry.Find(model)!;
        Skip.IfNot(info.IsSupported, $"{model} is not available here: {info.UnsupportedReason}");
        await using CliProcess server = CliProcess.Start("serve", "--model", model, "--port", "0", "--drain-timeout", "20s");
        int port = await server.WaitForServingPortAsync();
        using TestClient client = await TestClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await client.AssertEchoAsync("still here"u8.ToArray());

        server.Signal("TERM");
        byte[] buffer = new byte[16];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // half the drain deadline: a reset at the deadline cannot pass
        Assert.Equal(0, await client.Socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, deadline.Token)); // FIN, not a reset
        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("stop: 1 connections drained (every echo, then FIN), 0 reset at the drain deadline, 0 bytes read and never echoed", server.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_messages_option_prints_each_echo()
    {
        await using CliProcess server = CliProcess.Start("serve", "--model", "async", "--port", "0");
        int port = await server.WaitForServingPortAsync();
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null, "client", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--message", "abc", "--message", "Def ghi");
        Assert.True(exitCode == 0, stderr);
        Assert.Equal("ABC\nDEF GHI\n", stdout.ReplaceLineEndings("\n"));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Async_inline_completions_move_the_continuation_off_the_thread_pool(bool inline)
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "the runtime's socket engine thread exists on Unix only");
        string[] args = inline ? ["serve", "--model", "async", "--port", "0", "--trace", "--inline-completions"] : ["serve", "--model", "async", "--port", "0", "--trace"];
        await using CliProcess server = CliProcess.Start(args);
        int port = await server.WaitForServingPortAsync();
        using TestClient client = await TestClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));

        // Each round sends once the server narrates that its receive is pending. The narration comes
        // just before the await parks, and no event says it has: data that arrives in between completes
        // the receive before the await, and the narrating pool thread runs on, inline completions or not
        // (ManualResetValueTaskSourceCore's design). Such a round is inconclusive, so it is played again.
        for (int round = 1; ; round++)
        {
            await TaskTimeoutExtensions.Eventually(() => TraceLines(server, "receive is pending").Length >= round, $"receive {round} goes pending");
            await client.AssertEchoAsync("abc"u8.ToArray());

            // The trace names the thread that ran each continuation ("[pool thread 6] picks the connection up").
            await TaskTimeoutExtensions.Eventually(() => TraceLines(server, "picks the connection up").Length >= round, $"completion {round} is narrated");
            string pending = TraceLines(server, "receive is pending")[round - 1];
            string pick = TraceLines(server, "picks the connection up")[round - 1];
            if (!inline)
            {
                Assert.Contains("[pool thread", pick, StringComparison.Ordinal);
                Assert.Contains("Continuations run on thread-pool threads", server.Stderr, StringComparison.Ordinal);
                return;
            }

            Assert.Contains("inline completions", server.Stderr, StringComparison.Ordinal);
            if (!pick.Contains("[pool thread", StringComparison.Ordinal))
            {
                return; // the runtime's socket engine thread ran the continuation
            }

            // On a pool thread: only the race above may put it there, and then on the thread that narrated "pending".
            Assert.True(ThreadOf(pick) == ThreadOf(pending), $"with inline completions a continuation ran on a pool thread: {pick}");
            // The trace narrates 3 events of a kind per second one by one; more rounds would go uncounted in it.
            Assert.True(round < TraceAggregator.DetailedPerInterval, $"{round} rounds in a row the data beat the await; last: {pick}");
        }
    }

    private static string[] TraceLines(CliProcess server, string text) =>
        [.. server.Stderr.Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal))];

    /// <summary>The thread a trace line names: "pool thread 6" from "... [pool thread 6] picks ...".</summary>
    private static string ThreadOf(string line)
    {
        int open = line.IndexOf('[', line.IndexOf("client #", StringComparison.Ordinal));
        return line[(open + 1)..line.IndexOf(']', open)];
    }

    public static TheoryData<string[], int, string> BadInput => new()
    {
        { ["serve", "--port", "0", "--model", "carrier-pigeon"], 2, "unknown model 'carrier-pigeon'; the models are: blocking" },
        { ["serve", "--port", "abc"], 2, "--port must be a whole number from 0 to 65535, not 'abc'" },
        { ["serve", "--port", "70000"], 2, "--port must be a whole number from 0 to 65535" },
        { ["serve", "--port", "0", "--buffer-size", "-5"], 2, "--buffer-size must be a whole number" },
        { ["serve", "--port", "0", "--stats", "soon"], 2, "--stats must be a positive duration" },
        { ["serve", "--port", "0", "--host", "not an address"], 2, "--host must be an IP address" },
        { ["serve", "--port", "0", "--output-buffer", "10", "--buffer-size", "100"], 2, "--output-buffer must be at least --buffer-size" },
        { ["serve", "--port", "0", "--log-level", "loud"], 2, "--log-level must be one of" },
        { ["serve", "--port", "0", "--no-such-option"], 2, "--no-such-option" },
        { ["frobnicate"], 2, "frobnicate" },
        { ["client", "--port", "1", "--host", ""], 2, "--host must name a host or an IP address, not an empty string" },
        { ["client", "--port", "1", "--timeout", "0"], 2, "--timeout must be a positive duration" },
        { ["serve", "--port", "0", "--model", "epoll", "--inline-completions"], 2, "--inline-completions applies to --model async only; the epoll model does not take it" },
        { ["serve", "--port", "0", "--model", "epoll", "--workers", "4"], 2, "--workers applies to --model blocking only; the epoll model does not take it" },
        { ["serve", "--port", "0", "--model", "select", "--edge-triggered"], 2, "--edge-triggered applies to --model epoll only; the select model does not take it" },
    };

    [Theory]
    [InlineData("serve")]
    [InlineData("client")]
    [InlineData("bench")]
    [InlineData("demo")]
    public async Task Help_names_each_default_once_and_durations_as_typed(string command)
    {
        (int exitCode, string stdout, _) = await CliProcess.RunAsync(null, command, "--help");
        Assert.Equal(0, exitCode);
        foreach (string line in stdout.Split('\n'))
        {
            int first = line.IndexOf("[default:", StringComparison.Ordinal);
            Assert.True(first < 0 || line.IndexOf("[default:", first + 1, StringComparison.Ordinal) < 0, $"a default shown twice: {line.Trim()}");
            Assert.DoesNotContain("00:00:", line, StringComparison.Ordinal); // a TimeSpan printed raw, not as 500ms or 5s
        }
    }

    [Theory, MemberData(nameof(BadInput))]
    public async Task Bad_input_gets_one_clear_line_and_a_nonzero_exit_code(string[] args, int expectedExitCode, string expectedMessage)
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null, args);
        Assert.Equal(expectedExitCode, exitCode);
        AssertOneErrorLine(stderr, expectedMessage);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Serve_with_an_unwritable_port_file_says_so_and_stops()
    {
        string portFile = Path.Combine(Path.GetTempPath(), $"iomodels-no-such-dir-{Guid.NewGuid():N}", "port");
        (int exitCode, _, string stderr) = await CliProcess.RunAsync(null, "serve", "--port", "0", "--port-file", portFile);
        Assert.Equal(2, exitCode);
        Assert.Contains($"iomodels: cannot write --port-file {portFile}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_says_so()
    {
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        occupier.Listen();
        int port = ((IPEndPoint)occupier.LocalEndPoint!).Port;
        (int exitCode, _, string stderr) = await CliProcess.RunAsync(null, "serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(4, exitCode);
        Assert.Contains($"127.0.0.1:{port} is already in use", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_to_an_unreachable_server_says_so()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // a port that was free a moment ago and has no listener
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        (int exitCode, _, string stderr) = await CliProcess.RunAsync("hi\n", "client", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(5, exitCode);
        AssertOneErrorLine(stderr, $"cannot connect to 127.0.0.1:{port}: connection refused");
    }

    [Fact]
    public async Task Client_reports_a_server_that_closes_before_echoing()
    {
        using var mute = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        mute.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        mute.Listen();
        int port = ((IPEndPoint)mute.LocalEndPoint!).Port;
        Task closer = Task.Run(async () =>
        {
            using Socket accepted = await mute.AcceptAsync().WithTimeout();
            byte[] sink = new byte[16];
            await accepted.ReceiveAsync(sink, SocketFlags.None).WithTimeout();
            accepted.Shutdown(SocketShutdown.Both); // reads the request, answers nothing, hangs up
        });
        (int exitCode, _, string stderr) = await CliProcess.RunAsync("hello\n", "client", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await closer.WithTimeout();
        Assert.Equal(6, exitCode);
        AssertOneErrorLine(stderr, "the server closed the connection after 0 of 5 echoed bytes");
    }

    private static void AssertOneErrorLine(string stderr, string expected)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got: {stderr}");
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("iomodels: ", lines[0], StringComparison.Ordinal);
    }
}
