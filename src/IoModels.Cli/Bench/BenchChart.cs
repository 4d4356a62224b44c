using ScottPlot;

namespace IoModels.Cli.Bench;

/// <summary>
/// <c>bench --chart FILE</c>: throughput (thick line, dots, left axis) and p99 latency (thin line,
/// squares, right axis). Not dashes: the SVG backend cannot draw them and says so on stderr per line.
/// against connections, one colour per server, connections on a log scale. SVG or PNG by extension.
/// Each message size gets a chart of its own (one chart with every size would be unreadable): with
/// one size the chart goes to FILE, with several to FILE-32B.svg, FILE-1024B.svg and so on.
/// </summary>
internal static class BenchChart
{
    private const int Width = 1000;
    private const int Height = 600;

    /// <summary>Draws one chart per message size; returns the files written.</summary>
    public static IReadOnlyList<string> Save(BenchReport report, string file)
    {
        int[] sizes = report.Runs.Select(r => r.Size).Distinct().ToArray();
        if (sizes.Length <= 1)
        {
            Save(report.Runs, sizes.FirstOrDefault(), file);
            return [file];
        }

        var files = new List<string>();
        foreach (int size in sizes)
        {
            string sized = Path.Combine(Path.GetDirectoryName(file) ?? string.Empty,
                $"{Path.GetFileNameWithoutExtension(file)}-{size.ToString(System.Globalization.CultureInfo.InvariantCulture)}B{Path.GetExtension(file)}");
            Save(report.Runs, size, sized);
            files.Add(sized);
        }

        return files;
    }

    private static void Save(IReadOnlyList<BenchRow> runs, int size, string file)
    {
        BenchRow[] rows = runs.Where(r => r.Size == size).ToArray();
        var plot = new Plot();
        plot.Title($"iomodels bench: {size} B messages, depth {(rows.Length > 0 ? rows[0].Depth : 1)}");
        plot.XLabel("connections (log scale)");
        plot.Axes.Left.Label.Text = "messages/s (thick, dots)";
        plot.Axes.Right.Label.Text = "p99 latency, ms (thin, squares)";

        int index = 0;
        foreach (IGrouping<string, BenchRow> server in rows.GroupBy(r => r.Server))
        {
            BenchRow[] points = server.OrderBy(r => r.Connections).ToArray();
            double[] xs = points.Select(r => Math.Log10(r.Connections)).ToArray();
            Color color = Colors.Category10[index++ % Colors.Category10.Length];

            var throughput = plot.Add.Scatter(xs, points.Select(r => r.MessagesPerSecond).ToArray(), color);
            throughput.LegendText = $"{server.Key} msg/s";
            throughput.LineWidth = 2;
            throughput.MarkerShape = MarkerShape.FilledCircle;
            throughput.MarkerSize = 6;

            var p99 = plot.Add.Scatter(xs, points.Select(r => r.P99Microseconds / 1000).ToArray(), color);
            p99.LegendText = $"{server.Key} p99";
            p99.LineWidth = 1;
            p99.MarkerShape = MarkerShape.OpenSquare;
            p99.MarkerSize = 7;
            p99.Axes.YAxis = plot.Axes.Right;
        }

        int[] connections = rows.Select(r => r.Connections).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(connections.Select(c => Math.Log10(c)).ToArray(), connections.Select(c => c.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.ShowLegend(Alignment.UpperLeft);

        if (Path.GetExtension(file).Equals(".png", StringComparison.OrdinalIgnoreCase))
        {
            plot.SavePng(file, Width, Height);
        }
        else
        {
            plot.SaveSvg(file, Width, Height);
        }
    }
}
