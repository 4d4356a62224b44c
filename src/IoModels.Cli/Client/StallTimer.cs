namespace IoModels.Cli.Client;

/// <summary>
/// The client's <c>--timeout</c> while an echo streams: it cancels the exchange when bytes are owed
/// (sent, not yet echoed) and nothing has moved in either direction for the timeout. It does not run
/// while nothing is owed, so a slow producer on stdin is never the server's fault, and a long line
/// that keeps moving never times out however long it takes in all.
/// </summary>
internal sealed class StallTimer
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _exchange;
    private readonly TimeSpan _timeout;
    private long _sent;
    private long _echoed;

    /// <param name="exchange">Cancelled when the timeout passes; the owner tells a stall from other cancellations.</param>
    /// <param name="timeout">How long an owed echo may make no progress.</param>
    public StallTimer(CancellationTokenSource exchange, TimeSpan timeout)
    {
        _exchange = exchange;
        _timeout = timeout;
    }

    /// <summary>Bytes handed to the socket (or about to be): from now on their echo is owed.</summary>
    public long Sent { get { lock (_lock) { return _sent; } } }

    /// <summary>Bytes of the reply received so far.</summary>
    public long Echoed { get { lock (_lock) { return _echoed; } } }

    public void Sending(int count)
    {
        lock (_lock)
        {
            _sent += count;
            _exchange.CancelAfter(_timeout);
        }
    }

    /// <summary>A send call completed: progress, if anything is still owed.</summary>
    public void SendCompleted()
    {
        lock (_lock)
        {
            if (_echoed < _sent)
            {
                _exchange.CancelAfter(_timeout);
            }
        }
    }

    public void Received(int count)
    {
        lock (_lock)
        {
            _echoed += count;
            _exchange.CancelAfter(_echoed < _sent ? _timeout : Timeout.InfiniteTimeSpan);
        }
    }
}
