using System.Globalization;
using System.Text.Json;
using IoModels.Tests.Load;
using IoModels.Tests.Support;

namespace IoModels.Tests.Bench;

/// <summary><c>iomodels bench</c> end to end: a real child server, a real load, real output. No speed is asserted.</summary>
public sealed partial class BenchCommandTests
{
    [Fact]
    public async Task Bench_of_a_model_prints_the_table_and_exits_zero()
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--model", "blocking", "--duration", "1s", "--warmup", "200ms", "--connections", "2");
        Assert.True(exitCode == 0, stderr);
        IEnumerable<string> mainTable = stdout.Split('\n').TakeWhile(l => !l.Contains(IoModels.Cli.Bench.BenchFormatter.CallsTitle, StringComparison.Ordinal));
        string row = Assert.Single(mainTable, l => l.Contains("blocking", StringComparison.Ordinal));
        Assert.Contains("msg/s", stdout, StringComparison.Ordinal);
        Assert.Contains("p99.9", stdout, StringComparison.Ordinal);
        string[] cells = row.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("2", cells[1]); // connections
        Assert.True(double.Parse(cells[4], NumberStyles.Number, CultureInfo.InvariantCulture) > 0, row); // msg/s
        Assert.Equal("0", cells[11]); // errors
        Assert.Equal("0", cells[12]); // mismatches
        Assert.NotEqual("-", cells[14]); // the child server's threads were read from the OS
    }

    [Fact]
    public async Task Bench_writes_json_with_the_machine_and_the_command_markdown_to_stdout_and_a_chart()
    {
        string file = Path.Combine(Path.GetTempPath(), $"iomodels-bench-test-{Guid.NewGuid():N}.json");
        string chart = Path.ChangeExtension(file, ".svg");
        try
        {
            (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
                "bench", "--model", "async", "--duration", "500ms", "--warmup", "0", "--connections", "1,3", "--size", "64",
                "--depth", "2", "--format", "markdown", "--output", file, "--chart", chart);
            Assert.True(exitCode == 0, stderr);
            Assert.Contains("| server | conns |", stdout, StringComparison.Ordinal);
            string[] markdown = stdout.Split('\n');
            int calls = Array.FindIndex(markdown, l => l.StartsWith("Calls: ", StringComparison.Ordinal));
            Assert.True(calls > 0, stdout); // the engine calls per message follow, in a table of their own
            Assert.Equal(2, markdown[..calls].Count(l => l.StartsWith("| async |", StringComparison.Ordinal)));
            Assert.Equal(2, markdown[calls..].Count(l => l.StartsWith("| async |", StringComparison.Ordinal)));

            using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            JsonElement root = json.RootElement;
            Assert.Equal(Environment.ProcessorCount, root.GetProperty("machine").GetProperty("cores").GetInt32());
            Assert.Contains("bench --model async", root.GetProperty("command").GetString(), StringComparison.Ordinal);
            JsonElement[] runs = [.. root.GetProperty("runs").EnumerateArray()];
            Assert.Equal([1, 3], runs.Select(r => r.GetProperty("connections").GetInt32()));
            Assert.All(runs, r =>
            {
                Assert.Equal(64, r.GetProperty("size").GetInt32());
                Assert.Equal(0, r.GetProperty("mismatches").GetInt64());
                Assert.True(r.GetProperty("messages").GetInt64() > 0);
                double receives = r.GetProperty("engineCalls").GetProperty("receivesPerMessage").GetDouble();
                Assert.True(receives > 0 && double.IsFinite(receives), $"receives per message: {receives}"); // below 1 when two in flight share a receive
            });

            string svg = await File.ReadAllTextAsync(chart);
            Assert.Contains("<svg", svg, StringComparison.Ordinal);
            Assert.Contains("async msg/s", svg, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
            File.Delete(chart);
        }
    }

    [Fact]
    public async Task Bench_of_a_target_that_corrupts_bytes_exits_nonzero_and_says_why()
    {
        await using var server = new FaultyEchoServer(corruptEvery: 7);
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--target", $"127.0.0.1:{server.EndPoint.Port}", "--label", "broken", "--duration", "500ms", "--warmup", "0",
            "--connections", "2", "--format", "csv");
        Assert.True(exitCode == 1, $"exit {exitCode}: {stdout} {stderr}");
        Assert.StartsWith("server,connections,size", stdout, StringComparison.Ordinal);
        Assert.Contains("broken,2,32,", stdout, StringComparison.Ordinal);
        Assert.Contains("echoed bytes were wrong (from broken)", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Wrong_bytes_in_a_scale_run_alone_fail_the_bench_too()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "scale runs need the epoll load generator");

        // Clean for bench's reachability probe and the grid's 2 connections; the 4 scale connections get flipped bits.
        await using var server = new FaultyEchoServer(corruptEvery: 7, cleanConnections: 3);
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--target", $"127.0.0.1:{server.EndPoint.Port}", "--label", "broken", "--duration", "300ms", "--warmup", "0",
            "--connections", "2", "--scale", "4", "--format", "csv");
        Assert.True(exitCode == 1, $"exit {exitCode}: {stdout} {stderr}");
        string grid = Assert.Single(stdout.Split('\n'), l => l.StartsWith("broken,2,32,", StringComparison.Ordinal));
        Assert.Equal("0", grid.Split(',')[15]); // the grid's echoes were right: only the scale run's were wrong
        Assert.Contains("echoed bytes were wrong (from broken)", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Bench_scale_opens_the_connections_echoes_once_and_reports_memory_per_idle_connection()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "scale runs use the epoll load generator");
        string file = Path.Combine(Path.GetTempPath(), $"iomodels-bench-scale-{Guid.NewGuid():N}.json");
        try
        {
            (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
                "bench", "--model", "epoll", "--duration", "300ms", "--warmup", "0", "--connections", "1", "--scale", "200",
                "--format", "markdown", "--output", file);
            Assert.True(exitCode == 0, stderr);
            Assert.Contains("Load generator: epoll, 1 thread", stdout, StringComparison.Ordinal);
            Assert.Contains("| server | conns | opened | connect | open + echo all |", stdout, StringComparison.Ordinal);

            using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            JsonElement scale = Assert.Single(json.RootElement.GetProperty("scale").EnumerateArray());
            Assert.Equal("epoll", scale.GetProperty("server").GetString());
            Assert.Equal(200, scale.GetProperty("connectionsOpened").GetInt32());
            Assert.Equal(0, scale.GetProperty("errors").GetInt64());
            Assert.True(scale.GetProperty("allEchoedMilliseconds").GetDouble() >= scale.GetProperty("connectMilliseconds").GetDouble());
            // Both memory readings come from the child server's /proc status, so the per-connection figure exists.
            Assert.True(scale.GetProperty("memoryIdleBytes").GetInt64() > 0);
            Assert.Equal(JsonValueKind.Number, scale.GetProperty("bytesPerIdleConnection").ValueKind);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableTheory]
    [InlineData("nonblocking")]
    [InlineData("signal")]
    public async Task An_idle_connection_of_a_polling_engine_holds_no_output_buffer(string model)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "scale runs use the epoll load generator");
        Skip.IfNot(ModelRegistry.Find(model)!.IsSupported, $"{model} is not available here");
        // 1,000 idle connections: a rented 64 KiB output buffer each would be 64 MB; the bound is 16 KiB
        // per connection, far above what a connection costs without one (about 2 KiB measured). Not
        // select: it queues every echo of the burst before sending any, so 1,000 buffers are out at once
        // and the OutputBuffer pool keeps them afterwards (by design): process memory, but no buffer held
        // by an idle connection, which this figure cannot tell apart.
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--model", model, "--duration", "200ms", "--warmup", "0", "--connections", "1", "--scale", "1000", "--format", "json");
        Assert.True(exitCode == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        JsonElement scale = Assert.Single(json.RootElement.GetProperty("scale").EnumerateArray());
        Assert.Equal(1000, scale.GetProperty("connectionsOpened").GetInt32());
        double perConnection = scale.GetProperty("bytesPerIdleConnection").GetDouble();
        Assert.True(perConnection < 16 * 1024, $"{model}: {perConnection:0} bytes per idle connection");
    }

    [Fact]
    public async Task Bench_with_several_sizes_draws_one_chart_per_size()
    {
        string chart = Path.Combine(Path.GetTempPath(), $"iomodels-bench-chart-{Guid.NewGuid():N}.svg");
        string[] expected = [Path.ChangeExtension(chart, null) + "-16B.svg", Path.ChangeExtension(chart, null) + "-512B.svg"];
        try
        {
            (int exitCode, _, string stderr) = await CliProcess.RunAsync(null,
                "bench", "--model", "epoll", "--duration", "200ms", "--warmup", "0", "--connections", "1,2", "--size", "16,512",
                "--format", "csv", "--chart", chart);
            Assert.True(exitCode == 0, stderr);
            Assert.False(File.Exists(chart));
            foreach (string file in expected)
            {
                string svg = await File.ReadAllTextAsync(file);
                Assert.Contains($"{file[(file.LastIndexOf('-') + 1)..^5]} B messages", svg, StringComparison.Ordinal);
            }

            Assert.Contains($"chart: {expected[0]}, {expected[1]}", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(chart);
            Array.ForEach(expected, File.Delete);
        }
    }

    public static TheoryData<string[], int, string> BadInput => new()
    {
        { ["bench", "--connections", "abc"], 2, "--connections must be a comma-separated list of whole numbers from 1 to 100000, not 'abc'" },
        { ["bench", "--connections", "1,,2"], 2, "--connections must be a comma-separated list" },
        { ["bench", "--size", "0"], 2, "--size must be a comma-separated list of whole numbers from 1" },
        { ["bench", "--model", "carrier-pigeon"], 2, "unknown model 'carrier-pigeon'; the models are: blocking" },
        { ["bench", "--model", "async,nope"], 2, "unknown model 'nope'" },
        { ["bench", "--target", "localhost"], 2, "--target must be HOST:PORT" },
        { ["bench", "--format", "xml"], 2, "--format must be one of table, markdown, csv, json, not 'xml'" },
        { ["bench", "--rate", "-3"], 2, "--rate must be a positive number" },
        { ["bench", "--duration", "never"], 2, "--duration must be a positive duration" },
        { ["bench", "--depth", "0"], 2, "--depth must be a whole number from 1 to 4096" },
        { ["bench", "--target-pid", "123"], 2, "--target-pid needs a --target" },
        { ["bench", "--output", "/no/such/dir/results.md"], 2, "--output /no/such/dir/results.md: the directory /no/such/dir does not exist" },
        { ["bench", "--output", "/tmp"], 2, "--output must name a file, not '/tmp'" },
        { ["bench", "--depth", "4096", "--size", "8192"], 2, "--depth times --size must be at most 16 MiB in flight per connection" },
        { ["bench", "--chart", "chart.jpg"], 2, "--chart must name a .svg or .png file, not 'chart.jpg'" },
        { ["bench", "--scale", "0"], 2, "--scale must be a comma-separated list of whole numbers from 1 to 100000, not '0'" },
        { ["bench", "--generator", "fast"], 2, "--generator must be one of auto, epoll, sockets, not 'fast'" },
        { ["bench", "--load-threads", "300"], 2, "--load-threads must be a whole number from 0 to 256, not '300'" },
        { ["bench", "--scale", "10", "--generator", "sockets"], 2, "--scale (a fixed number of messages per connection) needs the epoll load generator" },
        { ["bench", "--model", "epoll --frob"], 2, "--model 'epoll --frob': Unrecognized command or argument '--frob'" },
        { ["bench", "--model", "epoll --loops 0"], 2, "--model 'epoll --loops 0': --loops must be a whole number from 1 to 256" },
        { ["bench", "--model", "epoll --port 5"], 2, "--model 'epoll --port 5': --port is bench's to set" },
        { ["bench", "--model", "epoll --log-level=debug"], 2, "--log-level is bench's to set" },
        { ["bench", "--model", "epoll --trace"], 2, "--trace is bench's to set" },
        // An option the model does not take: refused by serve's parser, before any server starts.
        { ["bench", "--model", "epoll --inline-completions"], 2, "--model 'epoll --inline-completions': --inline-completions applies to --model async only; the epoll model does not take it" },
        // Valid syntax that serve itself refuses once it runs: serve's own line and exit code come through.
        { ["bench", "--model", "epoll --output-buffer 10 --buffer-size 100", "--duration", "1s"], 2, "the epoll --output-buffer 10 --buffer-size 100 server exited with code 2 before listening: iomodels: --output-buffer must be at least --buffer-size" },
    };

    [Fact]
    public async Task A_model_entry_with_serve_options_is_its_own_row_and_its_server_runs_with_them()
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--model", "epoll, epoll --loops 8", "--duration", "1s", "--warmup", "200ms", "--connections", "2", "--format", "csv");
        Assert.True(exitCode == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int threadsColumn = Array.IndexOf(lines[0].Split(','), "peak_threads");
        string[] plain = Assert.Single(lines, l => l.StartsWith("epoll,", StringComparison.Ordinal)).Split(',');
        string[] loops = Assert.Single(lines, l => l.StartsWith("epoll --loops 8,", StringComparison.Ordinal)).Split(',');

        // Eight event loops are seven more engine threads in the child: proof that --loops 8 reached it.
        int plainThreads = int.Parse(plain[threadsColumn], CultureInfo.InvariantCulture);
        int loopThreads = int.Parse(loops[threadsColumn], CultureInfo.InvariantCulture);
        Assert.True(loopThreads >= plainThreads + 5, $"epoll peaked at {plainThreads} threads, epoll --loops 8 at {loopThreads}");
    }

    [Theory, MemberData(nameof(BadInput))]
    public async Task Bad_input_gets_one_clear_line_and_exit_code_2(string[] args, int expectedExitCode, string expectedMessage)
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null, args);
        Assert.Equal(expectedExitCode, exitCode);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got: {stderr}");
        Assert.StartsWith("iomodels: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expectedMessage, lines[0], StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Bench_of_an_unreachable_target_says_so()
    {
        int port;
        using (var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            port = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
        }

        (int exitCode, _, string stderr) = await CliProcess.RunAsync(null, "bench", "--target", $"127.0.0.1:{port}", "--duration", "1s");
        Assert.Equal(5, exitCode);
        Assert.Contains($"cannot connect to --target 127.0.0.1:{port}: connection refused", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_child_server_killed_mid_run_is_reported_in_one_line_and_bench_exits_7()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Directory.Exists("/proc/self"), "finds bench's child server through /proc");
        await using CliProcess bench = CliProcess.Start("bench", "--model", "epoll", "--connections", "2", "--duration", "10s", "--warmup", "0");

        // Wait until bench's own server is up and the load has begun (progress past 0%), then kill that one process.
        int serverPid = 0;
        await TaskTimeoutExtensions.Eventually(
            () => (serverPid = ChildServerOf(bench.Id)) != 0 && ProgressPastZero().IsMatch(bench.Stderr),
            "bench has started its epoll server and the load against it");
        using (var server = System.Diagnostics.Process.GetProcessById(serverPid))
        {
            server.Kill(); // SIGKILL, to this PID alone
        }

        int exitCode = await bench.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.True(exitCode == 7, $"exit {exitCode}: {bench.Stderr}");
        string line = Assert.Single(bench.Stderr.Split('\n'), l => l.StartsWith("iomodels:", StringComparison.Ordinal));
        Assert.Contains("the epoll server died mid-run: killed by SIGKILL (exit code 137); its last lines: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected failure", bench.Stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task More_connections_than_the_descriptor_limit_allows_are_refused_before_any_server_starts()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/usr/bin/prlimit"), "needs Linux and prlimit(1)");
        await using CliProcess bench = CliProcess.StartWithDescriptorLimit(256, "bench", "--model", "epoll", "--connections", "10,500", "--duration", "1s");
        int exitCode = await bench.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 2, $"exit {exitCode}: {bench.Stderr}");
        string line = Assert.Single(bench.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("iomodels: 500 connections do not fit the open-files limit of 256", line, StringComparison.Ordinal);
        Assert.Contains("ulimit -n", line, StringComparison.Ordinal);
    }

    /// <summary>The PID of the <c>iomodels serve</c> process whose parent is <paramref name="parent"/>, from /proc/PID/stat; 0 if none yet.</summary>
    private static int ChildServerOf(int parent)
    {
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                // "PID (comm) STATE PPID ...": comm may hold spaces, so read after its closing parenthesis.
                string stat = File.ReadAllText(Path.Combine(directory, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent
                    && File.ReadAllText(Path.Combine(directory, "cmdline")).Contains("serve\0", StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Expected: that process ended while the directory was listed, or is not ours to read.
            }
        }

        return 0;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[1-9]\d*%")]
    private static partial System.Text.RegularExpressions.Regex ProgressPastZero();
}
