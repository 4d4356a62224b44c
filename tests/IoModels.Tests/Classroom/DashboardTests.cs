using System.Diagnostics;
using System.Globalization;
using IoModels.Cli;
using IoModels.Tests.Conformance;
using IoModels.Tests.Support;
using Spectre.Console;

namespace IoModels.Tests.Classroom;

/// <summary><c>serve --dashboard</c> and <c>serve --trace</c>, run as real processes with stdout redirected (not a terminal).</summary>
public sealed class DashboardTests
{
    [SkippableFact]
    public async Task Dashboard_falls_back_to_periodic_lines_when_stdout_is_not_a_terminal_and_sigterm_ends_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        await using CliProcess server = CliProcess.Start("serve", "--model", "async", "--port", "0", "--dashboard");
        int port = await server.WaitForServingPortAsync();
        (int clientExit, string echo, string clientErr) = await CliProcess.RunAsync(null, "client", "--port", port.ToString(CultureInfo.InvariantCulture), "--message", "dash");
        Assert.True(clientExit == 0, clientErr);
        Assert.Equal("DASH", echo.Trim());

        await TaskTimeoutExtensions.Eventually(
            () => server.Stdout.Split('\n').Count(l => l.StartsWith("[async] active ", StringComparison.Ordinal)) >= 2,
            "two periodic statistics lines appear on stdout");
        Assert.Contains("stdout is not a terminal", server.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", server.Stdout, StringComparison.Ordinal); // no terminal drawing codes in a pipe

        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("final statistics", server.Stdout, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Trace_narrates_the_blocking_steps_at_debug_level()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        await using CliProcess server = CliProcess.Start("serve", "--model", "blocking", "--port", "0", "--trace");
        int port = await server.WaitForServingPortAsync();
        (int clientExit, _, string clientErr) = await CliProcess.RunAsync(null, "client", "--port", port.ToString(CultureInfo.InvariantCulture), "--message", "step by step");
        Assert.True(clientExit == 0, clientErr);
        await TaskTimeoutExtensions.Eventually(() => server.Stderr.Contains("returned 0 bytes", StringComparison.Ordinal), "the end of the client's stream is narrated");

        string log = server.Stderr;
        Assert.Contains("DBG] blocking [blocking-acceptor] blocks in Accept", log, StringComparison.Ordinal);
        Assert.Matches(@"DBG\] blocking \[blocking-connection-\d+\] blocks in Receive for client #\d+", log);
        Assert.Matches(@"Receive for client #\d+ returned 12 bytes", log);
        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [SkippableTheory]
    [InlineData("nonblocking", @"\[nonblocking-engine\] swept \d+ sockets; \d+ calls would have blocked")]
    [InlineData("select", @"\[select-engine\] select on \d+ sockets returned [1-9]\d* ready")]
    [InlineData("epoll", @"\[epoll-loop-0\] wait returned [1-9]\d* events")]
    // signal: any count of sockets with data. Which SIGIO finds the data is a race (a sweep woken by the
    // accept's signal, or the re-sweep after it, may read it before the data's own signal is handled,
    // which then finds nothing); once three signals were narrated in a second the rest are summarised.
    [InlineData("signal", @"\[signal-loop\] SIGIO arrived: something is ready; tried \d+ sockets, \d+ had data")]
    [InlineData("uring", @"\[uring-loop-0\] io_uring wait returned [1-9]\d* completions")]
    public async Task Trace_narrates_each_event_driven_engines_wait(string model, string pattern)
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        ModelInfo info = ModelRegistry.Find(model)!;
        Skip.IfNot(info.IsSupported, $"{model} is not available here: {info.UnsupportedReason}");
        string[] sleep = info.Takes(EngineOption.PollInterval) ? ["--poll-interval", "10ms"] : []; // serve refuses it for a model that does not sweep
        await using CliProcess server = CliProcess.Start(["serve", "--model", model, "--port", "0", "--trace", .. sleep]);
        int port = await server.WaitForServingPortAsync();
        (int clientExit, _, string clientErr) = await CliProcess.RunAsync(null, "client", "--port", port.ToString(CultureInfo.InvariantCulture), "--message", "narrate this");
        Assert.True(clientExit == 0, clientErr);
        await TaskTimeoutExtensions.Eventually(() => System.Text.RegularExpressions.Regex.IsMatch(server.Stderr, pattern), $"the {model} engine narrates its wait ({pattern})");
        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [SkippableTheory]
    [InlineData("blocking")]
    [InlineData("epoll")]
    [InlineData("uring")]
    [InlineData("async")]
    public async Task Trace_lists_the_open_connections_with_the_dashboards_rows(string model)
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        ModelInfo info = ModelRegistry.Find(model)!;
        Skip.IfNot(info.IsSupported, $"{model} is not available here: {info.UnsupportedReason}");
        await using CliProcess server = CliProcess.Start("serve", "--model", model, "--port", "0", "--trace");
        var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, await server.WaitForServingPortAsync());
        using (TestClient client = await TestClient.ConnectAsync(endPoint))
        {
            await client.AssertEchoAsync("listed"u8.ToArray());
            int port = ((System.Net.IPEndPoint)client.Socket.LocalEndPoint!).Port;
            string row = $@"DBG\] {model}   client #\d+ 127\.0\.0\.1:{port}: 6 bytes in, 6 out, waiting for data, idle \d+ s";
            await TaskTimeoutExtensions.Eventually(
                () => server.Stderr.Contains($"{model} connections: 1 open", StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.IsMatch(server.Stderr, row),
                $"the trace lists the open connection ({row})");
        }

        await TaskTimeoutExtensions.Eventually(
            () => server.Stderr is var log && log.IndexOf($"{model} connections: 0 open", log.LastIndexOf($"{model} connections: 1 open", StringComparison.Ordinal), StringComparison.Ordinal) >= 0,
            "the trace lists the connection gone, after it listed it open");
        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void The_trace_listing_says_how_many_are_open_and_shows_the_oldest()
    {
        var rows = Enumerable.Range(1, TraceConnections.Rows)
            .Select(i => new ConnectionSnapshot(i, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 40000 + i), 1_234 * i, 1_234 * i, ConnectionActivity.WaitingForData, TimeSpan.FromSeconds(2.7)))
            .ToList();
        IReadOnlyList<string> lines = TraceConnections.Lines(rows, total: 7);
        Assert.Equal($"connections: 7 open, the {TraceConnections.Rows} oldest:", lines[0]);
        Assert.Equal(TraceConnections.Rows + 1, lines.Count);
        Assert.Equal("  client #2 127.0.0.1:40002: 2,468 bytes in, 2,468 out, waiting for data, idle 2 s", lines[2]);
        Assert.Equal(["connections: 0 open"], TraceConnections.Lines([], total: 0));
    }

    [SkippableTheory, MemberData(nameof(EngineCases.Names), MemberType = typeof(EngineCases))]
    public async Task A_frame_shows_the_counters_threads_and_one_row_per_connection(string name)
    {
        EngineCase engine = EngineCases.Get(name);
        string model = engine.Model;
        await using RunningServer server = RunningServer.Start(engine);
        using TestClient first = await server.ConnectAsync();
        using TestClient second = await server.ConnectAsync();
        await first.AssertEchoAsync("frame one"u8.ToArray());
        await second.AssertEchoAsync("frame two!"u8.ToArray());
        Assert.IsAssignableFrom<IConnectionListing>(server.Server);
        var listing = (IConnectionListing)server.Server;
        await TaskTimeoutExtensions.Eventually(
            () => listing.ListConnections(10) is { Count: 2 } rows && rows.All(r => r.BytesOut == r.BytesIn && r.Activity == ConnectionActivity.WaitingForData),
            "both connections are listed, echoed and waiting again");

        StatisticsSnapshot earlier = server.Statistics.Snapshot();
        using var process = Process.GetCurrentProcess();
        var text = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = 120;
        console.Write(Dashboard.Frame(ModelRegistry.Find(model)!, server.Server, earlier, server.Statistics.Snapshot(), 42.0, process, TimeSpan.FromSeconds(3)));

        string frame = text.ToString();
        Assert.Contains($"{model} on {server.EndPoint}", frame, StringComparison.Ordinal);
        Assert.Contains("2 connections (peak 2)", frame, StringComparison.Ordinal);
        Assert.Contains("receive calls", frame, StringComparison.Ordinal);
        Assert.Contains("CPU 42%", frame, StringComparison.Ordinal);
        Assert.Matches(@"#\d+ +127\.0\.0\.1:\d+ +9 +9 +waiting for data +\d+\.\d s", frame);
        Assert.Matches(@"#\d+ +127\.0\.0\.1:\d+ +10 +10 +waiting for data +\d+\.\d s", frame);
        Assert.Contains("2 connections", frame, StringComparison.Ordinal);
    }
}
