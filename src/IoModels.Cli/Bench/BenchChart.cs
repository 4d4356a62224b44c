using ScottPlot;

namespace IoModels.Cli.Bench;

/// <summary>
/// <c>bench --chart FILE</c>: throughput (solid, left axis) and p99 latency (dashed, right axis)
/// against connections, one colour per server, connections on a log scale. SVG or PNG by extension.
/// One chart per message size would be unreadable; with several sizes, the first is drawn.
/// </summary>
internal static class BenchChart
{
    private const int Width = 1000;
    private const int Height = 600;

    public static void Save(BenchReport report, string file)
    {
        int size = report.Runs.Count > 0 ? report.Runs[0].Size : 0;
        BenchRow[] rows = report.Runs.Where(r => r.Size == size).ToArray();
        var plot = new Plot();
        plot.Title($"iomodels bench: {size} B messages, depth {(rows.Length > 0 ? rows[0].Depth : 1)}");
        plot.XLabel("connections (log scale)");
        plot.Axes.Left.Label.Text = "messages/s (solid)";
        plot.Axes.Right.Label.Text = "p99 latency, ms (dashed)";

        int index = 0;
        foreach (IGrouping<string, BenchRow> server in rows.GroupBy(r => r.Server))
        {
            BenchRow[] points = server.OrderBy(r => r.Connections).ToArray();
            double[] xs = points.Select(r => Math.Log10(r.Connections)).ToArray();
            Color color = Colors.Category10[index++ % Colors.Category10.Length];

            var throughput = plot.Add.Scatter(xs, points.Select(r => r.MessagesPerSecond).ToArray(), color);
            throughput.LegendText = $"{server.Key} msg/s";
            throughput.LineWidth = 2;

            var p99 = plot.Add.Scatter(xs, points.Select(r => r.P99Microseconds / 1000).ToArray(), color);
            p99.LegendText = $"{server.Key} p99";
            p99.LinePattern = LinePattern.Dashed;
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
