using Serilog;

namespace IoModels;

/// <summary>
/// What an accept loop does when the process runs out of file descriptors or buffers: wait, then
/// try again, waiting longer each time (10 ms doubling to 1 s), and log once per burst rather than
/// once per failure. Spinning on EMFILE would burn a core and flood the log while fixing nothing.
/// </summary>
public sealed class AcceptBackoff
{
    private static readonly TimeSpan s_first = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_longest = TimeSpan.FromSeconds(1);
    private TimeSpan _next = s_first;
    private bool _inBurst;

    /// <summary>The delay to wait before the next accept; logs on the first failure of a burst.</summary>
    public TimeSpan Fail(ILogger log, string model, EchoStatistics statistics, System.Net.Sockets.SocketError error)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        statistics.Increment(EchoCounter.AcceptBackoffs);
        TimeSpan delay = _next;
        if (!_inBurst)
        {
            EchoLog.AcceptBackoff(log, model, new SocketErrorCode(error), delay);
            _inBurst = true;
        }

        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, s_longest.Ticks));
        return delay;
    }

    /// <summary>An accept succeeded: the burst is over.</summary>
    public void Succeeded()
    {
        _inBurst = false;
        _next = s_first;
    }
}
