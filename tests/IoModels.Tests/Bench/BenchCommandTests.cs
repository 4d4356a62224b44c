using System.Globalization;
using System.Text.Json;
using IoModels.Tests.Load;
using IoModels.Tests.Support;

namespace IoModels.Tests.Bench;

/// <summary><c>iomodels bench</c> end to end: a real child server, a real load, real output. No speed is asserted.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_of_a_model_prints_the_table_and_exits_zero()
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--model", "blocking", "--duration", "1s", "--warmup", "200ms", "--connections", "2");
        Assert.True(exitCode == 0, stderr);
        string row = Assert.Single(stdout.Split('\n'), l => l.Contains("blocking", StringComparison.Ordinal));
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
            Assert.Equal(2, stdout.Split('\n').Count(l => l.StartsWith("| async |", StringComparison.Ordinal)));

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
    };

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
}
