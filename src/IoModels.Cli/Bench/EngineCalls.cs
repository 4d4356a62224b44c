using System.Globalization;

namespace IoModels.Cli.Bench;

/// <summary>
/// What a model's engine did per echoed message, from the counters its child server prints when it
/// stops (the final statistics summary of <c>serve</c>): receive, send and wait calls, and the calls
/// that returned "would block". This is why models differ at equal throughput: select and epoll pay
/// a wait per batch of ready sockets, nonblocking pays would-block calls, async pays a zero-byte
/// receive per quiet wait. Each cell has a fresh server, so the counts cover that cell's load (its
/// warmup included) and are divided by the messages the server echoed (bytes out / message size).
/// </summary>
/// <remarks>
/// These are the engine's calls, not system calls: an async receive is one awaited operation that the
/// runtime may make as more than one recv, and its waits happen in the runtime's own epoll thread,
/// which no engine counter sees (so async shows 0 waits). Linux keeps no per-process count of system
/// calls that can be read without a tracer: /proc/PID/io's syscr and syscw count read- and write-family
/// calls only, not recvfrom, sendto or epoll_wait. For system calls, run <c>strace -f -c -p PID</c> on
/// the server.
/// </remarks>
internal sealed record EngineCalls(double ReceivesPerMessage, double SendsPerMessage, double WaitsPerMessage, double WouldBlockPerMessage)
{
    private static readonly Dictionary<string, EchoCounter> s_byLabel =
        Enum.GetValues<EchoCounter>().ToDictionary(StatisticsFormatter.Label, counter => counter, StringComparer.Ordinal);

    /// <summary>
    /// The calls per message from the summary's counter lines ("  receive calls   149,724"), or null
    /// when there is no summary (the server was killed) or it echoed nothing.
    /// </summary>
    public static EngineCalls? FromSummary(IEnumerable<string> lines, int messageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messageSize);
        var counters = new Dictionary<EchoCounter, long>();
        bool sawSummary = false;
        foreach (string line in lines)
        {
            if (line.Contains(StatisticsFormatter.SummaryHeading, StringComparison.Ordinal))
            {
                sawSummary = true;
                counters.Clear(); // only the last summary counts
                continue;
            }

            // A counter line is its label, spaces, and the value with thousands separators; ratio lines do not parse.
            string text = line.Trim();
            int gap = text.LastIndexOf("  ", StringComparison.Ordinal);
            if (gap > 0 && s_byLabel.TryGetValue(text[..gap].TrimEnd(), out EchoCounter counter) &&
                long.TryParse(text[(gap + 2)..].Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long value))
            {
                counters[counter] = value;
            }
        }

        long Get(EchoCounter c) => counters.GetValueOrDefault(c);
        double messages = (double)Get(EchoCounter.BytesOut) / messageSize;
        if (!sawSummary || messages <= 0)
        {
            return null;
        }

        return new EngineCalls(
            Get(EchoCounter.ReceiveCalls) / messages,
            Get(EchoCounter.SendCalls) / messages,
            Get(EchoCounter.Waits) / messages,
            Get(EchoCounter.WouldBlock) / messages);
    }
}
