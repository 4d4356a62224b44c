using System.Globalization;
using IoModels.Cli;
using IoModels.Cli.Bench;
using IoModels.Tests.Support;

namespace IoModels.Tests.Bench;

/// <summary>The engine calls per message bench reads from each child server's final statistics summary.</summary>
public sealed class EngineCallsTests
{
    [Fact]
    public void The_summary_serve_prints_is_read_back_as_calls_per_message()
    {
        var statistics = new EchoStatistics();
        statistics.Add(EchoCounter.BytesOut, 100 * 32); // 100 messages of 32 bytes
        statistics.Add(EchoCounter.ReceiveCalls, 1_234_500); // thousands separators in the summary
        statistics.Add(EchoCounter.SendCalls, 100);
        statistics.Add(EchoCounter.Waits, 50);
        statistics.Add(EchoCounter.WouldBlock, 20);
        string summary = StatisticsFormatter.Summary(ModelRegistry.All[0], statistics.Snapshot(), TimeSpan.FromSeconds(3));

        EngineCalls? calls = EngineCalls.FromSummary(summary.Split(Environment.NewLine), messageSize: 32);

        Assert.Equal(new EngineCalls(12_345, 1, 0.5, 0.2), calls);
    }

    [Fact]
    public void No_summary_or_nothing_echoed_gives_no_figures()
    {
        Assert.Null(EngineCalls.FromSummary(["  receive calls        10"], 32)); // counter lines without the summary's first line
        string summary = StatisticsFormatter.Summary(ModelRegistry.All[0], new EchoStatistics().Snapshot(), TimeSpan.FromSeconds(1));
        Assert.Null(EngineCalls.FromSummary(summary.Split(Environment.NewLine), 32));
    }

    [Fact]
    public async Task Bench_reports_each_model_s_own_calls_per_message_in_csv_and_in_a_second_table()
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null,
            "bench", "--model", "blocking,epoll", "--duration", "1s", "--warmup", "200ms", "--connections", "2", "--format", "csv");
        Assert.True(exitCode == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] header = lines[0].Split(',');
        int receives = Array.IndexOf(header, "receive_calls_per_message");
        int sends = Array.IndexOf(header, "send_calls_per_message");
        int waits = Array.IndexOf(header, "wait_calls_per_message");
        Assert.True(receives > 0 && sends > 0 && waits > 0, lines[0]);

        double Field(string server, int column) =>
            double.Parse(Assert.Single(lines, l => l.StartsWith(server + ",", StringComparison.Ordinal)).Split(',')[column], CultureInfo.InvariantCulture);

        // One message in flight per connection: every echo needs at least one receive and one send;
        // blocking makes no wait calls, epoll makes some (at most one per receive).
        Assert.InRange(Field("blocking", receives), 1.0, 10.0);
        Assert.InRange(Field("blocking", sends), 1.0, 10.0);
        Assert.Equal(0, Field("blocking", waits));
        Assert.InRange(Field("epoll", receives), 1.0, 10.0);
        Assert.InRange(Field("epoll", waits), double.Epsilon, Field("epoll", receives));

        (exitCode, stdout, stderr) = await CliProcess.RunAsync(null,
            "bench", "--model", "blocking", "--duration", "500ms", "--warmup", "0", "--connections", "1");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains(BenchFormatter.CallsTitle, stdout, StringComparison.Ordinal);
        string[] callTable = stdout.Split('\n').SkipWhile(l => !l.Contains(BenchFormatter.CallsTitle, StringComparison.Ordinal)).ToArray();
        Assert.Contains(callTable, l => l.Contains("recv/msg", StringComparison.Ordinal));
        Assert.All(callTable.Where(l => l.Length > 0), l => Assert.True(l.TrimEnd().Length <= 100, $"wider than a projector: {l}"));
        string row = callTable.First(l => l.Contains("blocking", StringComparison.Ordinal));
        string[] cells = row.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.True(double.Parse(cells[4], CultureInfo.InvariantCulture) >= 1, row); // recv/msg
    }
}
