namespace IoModels;

/// <summary>
/// The steps an engine narrates with <c>serve --trace</c>. Each is counted by
/// <see cref="TraceAggregator"/> and worded once in <see cref="EchoLog"/>; the two numbers an event
/// carries (<c>a</c>, <c>b</c>) are summed per interval, so summaries can give averages.
/// </summary>
public enum TraceEvent
{
    /// <summary>A thread is about to block in Accept. a, b: unused.</summary>
    AcceptWaiting,
    /// <summary>A thread is about to block in Receive for one client (phase 1, waiting for data). a, b: unused.</summary>
    ReceiveWaiting,
    /// <summary>A blocking Receive returned: both phases done. a: bytes copied in.</summary>
    ReceiveReturned,
    /// <summary>An asynchronous receive was started and is pending: no thread waits for it. a, b: unused.</summary>
    OperationPending,
    /// <summary>A completion arrived and a pool thread continues that connection. a: bytes (0 for a readiness-only receive).</summary>
    CompletionArrived,
    /// <summary>A polling loop swept every connection. a: sockets tried, b: calls that would have blocked.</summary>
    SweepFinished,
    /// <summary>A select (poll) call returned. a: sockets passed in, b: sockets ready.</summary>
    SelectReturned,
    /// <summary>An epoll_wait or kevent call returned. a: events returned, b: sockets registered.</summary>
    EventsReturned,
    /// <summary>A readiness signal (SIGIO) arrived. a: sockets then tried, b: of which had data.</summary>
    SignalArrived,
    /// <summary>An io_uring wait returned. a: completions reaped, b: submissions made.</summary>
    CompletionsReaped,
}
