using System.Globalization;
using Serilog;

namespace IoModels.Cli;

/// <summary>
/// <c>serve --trace</c>'s view of the open connections, the same rows the dashboard draws (client,
/// remote, bytes in and out, state, idle time), written to the log once a second when something in
/// them changed. The narration says what the engine does; these lines say what it holds.
/// </summary>
internal static class TraceConnections
{
    /// <summary>Rows per listing: the oldest connections, as many as a reader follows at the trace's pace.</summary>
    public const int Rows = 5;

    /// <summary>Lists the connections every <paramref name="period"/> while they change, until <paramref name="cancellationToken"/> fires.</summary>
    public static async Task RunAsync(string model, IConnectionListing listing, ILogger log, TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        string previous = string.Empty;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                IReadOnlyList<ConnectionSnapshot> rows = listing.ListConnections(Rows);
                int total = Math.Max(listing.ListedConnections, rows.Count); // counted after the rows were read: never fewer
                // Compared without the idle clock, which moves every second: quiet connections are listed
                // once, and again when something else about them (or the set of them) changes.
                string now = string.Join('\n', Lines(rows.Select(r => r with { IdleFor = TimeSpan.Zero }).ToList(), total));
                if (now == previous)
                {
                    continue;
                }

                previous = now;
                foreach (string line in Lines(rows, total))
                {
                    log.Debug("{Model} {Line}", model, line);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Expected: serve is stopping.
        }
        catch (Exception exception)
        {
            // The listing is narration: a fault in it must not take the server (or its stop summary) down.
            log.Warning(exception, "{Model}: the trace's connection listing stopped", model);
        }
    }

    /// <summary>
    /// One heading line, then one line per listed connection. Idle time is in whole seconds, so a
    /// connection that only waits changes its line once a second at most.
    /// </summary>
    public static IReadOnlyList<string> Lines(IReadOnlyList<ConnectionSnapshot> connections, int total)
    {
        var lines = new List<string>(connections.Count + 1)
        {
            total > connections.Count
                ? string.Create(CultureInfo.InvariantCulture, $"connections: {total} open, the {connections.Count} oldest:")
                : string.Create(CultureInfo.InvariantCulture, $"connections: {total} open"),
        };
        foreach (ConnectionSnapshot connection in connections)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  client #{connection.Id} {connection.Remote?.ToString() ?? "?"}: {connection.BytesIn:N0} bytes in, {connection.BytesOut:N0} out, {Dashboard.Describe(connection.Activity)}, idle {(long)connection.IdleFor.TotalSeconds} s"));
        }

        return lines;
    }
}
