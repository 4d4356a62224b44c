using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace IoModels.Cli.Bench;

/// <summary>
/// The bench results as a terminal table, Markdown, CSV or JSON: the same figures in each. The table and
/// Markdown put the engine calls per message in a second table, so the first stays readable; CSV and
/// JSON carry them on each run.
/// </summary>
internal static class BenchFormatter
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static readonly string[] s_headers =
    [
        "server", "conns", "size", "depth", "msg/s", "MB/s", "p50", "p90", "p99", "p99.9", "max",
        "errors", "mismatches", "CPU s/M msg", "threads", "peak mem", "connect",
    ];

    /// <summary>The columns of one row as display text (units included).</summary>
    public static string[] Cells(BenchRow row) =>
    [
        row.Server,
        Integer(row.Connections),
        Integer(row.Size),
        Depth(row),
        Integer((long)Math.Round(row.MessagesPerSecond)),
        row.MegabytesPerSecond.ToString("0.00", s_invariant),
        Latency(row.P50Microseconds),
        Latency(row.P90Microseconds),
        Latency(row.P99Microseconds),
        Latency(row.P999Microseconds),
        Latency(row.MaxMicroseconds),
        Integer(row.Errors),
        Integer(row.Mismatches),
        row.CpuSecondsPerMillion is { } cpu ? cpu.ToString("0.00", s_invariant) : "-",
        row.PeakThreads is { } threads ? Integer(threads) : "-",
        row.PeakMemoryBytes is { } memory ? $"{memory / 1e6:0.0} MB" : "-",
        $"{row.ConnectMilliseconds.ToString("0", s_invariant)} ms",
    ];

    private static readonly string[] s_callHeaders =
    [
        "server", "conns", "size", "depth", "recv/msg", "send/msg", "wait/msg", "would-block/msg",
    ];

    /// <summary>Said above the calls table: what the figures are and what they are not.</summary>
    internal const string CallsTitle = "engine calls per echoed message (the server's own counters, not system calls)";

    /// <summary>The calls-per-message columns of one row; null when the row has none (a --target, or no summary).</summary>
    public static string[]? CallCells(BenchRow row) => row.EngineCalls is not { } calls ? null :
    [
        row.Server,
        Integer(row.Connections),
        Integer(row.Size),
        Depth(row),
        PerMessage(calls.ReceivesPerMessage),
        PerMessage(calls.SendsPerMessage),
        PerMessage(calls.WaitsPerMessage),
        PerMessage(calls.WouldBlockPerMessage),
    ];

    /// <summary>Messages in flight per connection, and the open-loop rate if one was set.</summary>
    private static string Depth(BenchRow row) => row.Rate is { } rate ? $"{row.Depth} @{Integer((long)rate)}/s" : Integer(row.Depth);

    private static string PerMessage(double value) => value.ToString("0.00", s_invariant);

    private static readonly string[] s_scaleHeaders =
    [
        "server", "conns", "opened", "connect", "open + echo all", "errors", "mismatches", "mem before", "mem idle", "per idle conn", "threads",
    ];

    /// <summary>The columns of one scale row as display text.</summary>
    public static string[] ScaleCells(ScaleRow row) =>
    [
        row.Server,
        Integer(row.Connections),
        Integer(row.ConnectionsOpened),
        $"{row.ConnectMilliseconds.ToString("0", s_invariant)} ms",
        row.AllEchoedMilliseconds is { } echoed ? $"{echoed.ToString("0", s_invariant)} ms" : "not all",
        Integer(row.Errors),
        Integer(row.Mismatches),
        row.MemoryBeforeBytes is { } before ? $"{before / 1e6:0.0} MB" : "-",
        row.MemoryIdleBytes is { } idle ? $"{idle / 1e6:0.0} MB" : "-",
        row.BytesPerIdleConnection is { } perConnection ? $"{(perConnection / 1024).ToString("0.00", s_invariant)} KiB" : "-",
        row.PeakThreads is { } threads ? Integer(threads) : "-",
    ];

    public static IRenderable Table(BenchReport report)
    {
        Table table = Table(s_headers, report.Runs.Select(row =>
        {
            string[] cells = Cells(row);
            return cells.Select((cell, i) => (cell, (i == 11 && row.Errors > 0) || (i == 12 && row.Mismatches > 0))).ToArray();
        }));
        table.Caption($"[grey]{Markup.Escape(report.Machine.ToString())}; load generator: {Markup.Escape(report.Generator)}[/]");
        var tables = new List<IRenderable> { table };
        List<string[]> calls = CallRows(report);
        if (calls.Count > 0)
        {
            Table callTable = Table(s_callHeaders, calls.Select(cells => cells.Select(cell => (cell, false)).ToArray()));
            callTable.Title(Markup.Escape(CallsTitle));
            tables.Add(callTable);
        }

        if (report.Scale.Count > 0)
        {
            Table scale = Table(s_scaleHeaders, report.Scale.Select(row =>
                ScaleCells(row).Select((cell, i) => (cell, (i == 4 && row.AllEchoedMilliseconds is null) || (i == 5 && row.Errors > 0) || (i == 6 && row.Mismatches > 0))).ToArray()));
            scale.Title("scale: connections opened at once, one echo each, then held idle");
            tables.Add(scale);
        }

        return tables.Count == 1 ? table : new Rows(tables);
    }

    /// <summary>The rows that have engine calls: the models bench started (a --target has no counters to read).</summary>
    private static List<string[]> CallRows(BenchReport report) => report.Runs.Select(CallCells).OfType<string[]>().ToList();

    private static Table Table(string[] headers, IEnumerable<(string Text, bool Bad)[]> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string header in headers)
        {
            TableColumn column = new TableColumn(Markup.Escape(header)).NoWrap();
            table.AddColumn(header == "server" ? column : column.RightAligned());
        }

        foreach ((string Text, bool Bad)[] row in rows)
        {
            table.AddRow(row.Select(c => (IRenderable)new Markup(c.Bad ? $"[red]{Markup.Escape(c.Text)}[/]" : Markup.Escape(c.Text))).ToArray());
        }

        return table;
    }

    public static string Markdown(BenchReport report)
    {
        var text = new StringBuilder();
        text.Append(s_invariant, $"Machine: {report.Machine}  \n");
        text.Append(s_invariant, $"Command: `{report.Command}`  \n");
        text.Append(s_invariant, $"Load generator: {report.Generator}  \n");
        text.Append(s_invariant, $"Started: {report.Started:yyyy-MM-dd HH:mm} UTC\n\n");
        MarkdownTable(text, s_headers, report.Runs.Select(Cells));
        List<string[]> calls = CallRows(report);
        if (calls.Count > 0)
        {
            text.Append(s_invariant, $"\nCalls: {CallsTitle}\n\n");
            MarkdownTable(text, s_callHeaders, calls);
        }

        if (report.Scale.Count > 0)
        {
            text.Append("\nScale: connections opened at once, one echo each, then held idle\n\n");
            MarkdownTable(text, s_scaleHeaders, report.Scale.Select(ScaleCells));
        }

        return text.ToString();
    }

    private static void MarkdownTable(StringBuilder text, string[] headers, IEnumerable<string[]> rows)
    {
        text.Append("| ").AppendJoin(" | ", headers).Append(" |\n");
        text.Append('|').AppendJoin('|', headers.Select((_, i) => i == 0 ? "---" : "---:")).Append("|\n");
        foreach (string[] row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        }
    }

    public static string Csv(BenchReport report)
    {
        var text = new StringBuilder();
        text.Append("server,connections,size,depth,rate,messages,seconds,messages_per_second,megabytes_per_second,")
            .Append("p50_us,p90_us,p99_us,p999_us,max_us,errors,mismatches,cpu_seconds_per_million,peak_threads,peak_memory_bytes,connections_opened,connect_ms,")
            .Append("receive_calls_per_message,send_calls_per_message,wait_calls_per_message,would_block_per_message\n");
        foreach (BenchRow row in report.Runs)
        {
            object?[] fields =
            [
                row.Server, row.Connections, row.Size, row.Depth, row.Rate, row.Messages, row.Seconds, row.MessagesPerSecond,
                row.MegabytesPerSecond, row.P50Microseconds, row.P90Microseconds, row.P99Microseconds, row.P999Microseconds,
                row.MaxMicroseconds, row.Errors, row.Mismatches, row.CpuSecondsPerMillion, row.PeakThreads, row.PeakMemoryBytes,
                row.ConnectionsOpened, row.ConnectMilliseconds, row.EngineCalls?.ReceivesPerMessage, row.EngineCalls?.SendsPerMessage,
                row.EngineCalls?.WaitsPerMessage, row.EngineCalls?.WouldBlockPerMessage,
            ];
            text.AppendJoin(',', fields.Select(CsvField)).Append('\n');
        }

        if (report.Scale.Count > 0)
        {
            // A second block, after a blank line: the scale runs have columns of their own.
            text.Append("\nscale_server,connections,connections_opened,connect_ms,all_echoed_ms,errors,mismatches,memory_before_bytes,memory_idle_bytes,bytes_per_idle_connection,peak_threads\n");
            foreach (ScaleRow row in report.Scale)
            {
                object?[] fields =
                [
                    row.Server, row.Connections, row.ConnectionsOpened, row.ConnectMilliseconds, row.AllEchoedMilliseconds, row.Errors,
                    row.Mismatches, row.MemoryBeforeBytes, row.MemoryIdleBytes, row.BytesPerIdleConnection, row.PeakThreads,
                ];
                text.AppendJoin(',', fields.Select(CsvField)).Append('\n');
            }
        }

        return text.ToString();
    }

    public static string Json(BenchReport report) => JsonSerializer.Serialize(report, s_json) + "\n";

    private static string CsvField(object? value) => value switch
    {
        null => string.Empty,
        string text when text.IndexOfAny([',', '"', '\n']) >= 0 => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
        double number => number.ToString("0.###", s_invariant),
        IFormattable formattable => formattable.ToString(null, s_invariant),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Integer(long value) => value.ToString("N0", s_invariant);

    /// <summary>A latency in the unit that keeps it short: 45 µs, 1.25 ms, 2.10 s.</summary>
    public static string Latency(double microseconds) => microseconds switch
    {
        < 10 => $"{microseconds.ToString("0.0", s_invariant)} µs",
        < 1000 => $"{microseconds.ToString("0", s_invariant)} µs",
        < 1_000_000 => $"{(microseconds / 1000).ToString("0.00", s_invariant)} ms",
        _ => $"{(microseconds / 1e6).ToString("0.00", s_invariant)} s",
    };
}
