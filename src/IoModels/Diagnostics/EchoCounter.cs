namespace IoModels;

/// <summary>
/// The counters every engine keeps. Each model uses the ones that show its cost; the rest stay zero
/// and are not displayed. Totals only grow; gauges (marked) go up and down and have a peak.
/// </summary>
public enum EchoCounter
{
    /// <summary>Connections accepted and admitted.</summary>
    ConnectionsAccepted,
    /// <summary>Gauge: connections open now.</summary>
    ConnectionsActive,
    /// <summary>Peak of <see cref="ConnectionsActive"/>.</summary>
    PeakConnections,
    /// <summary>Connections accepted and closed at once because the connection limit was reached.</summary>
    ConnectionsRejected,
    /// <summary>Connections closed by the idle timeout.</summary>
    ConnectionsTimedOut,
    /// <summary>Connections that ended with a reset or abort rather than an orderly close.</summary>
    ConnectionsReset,
    /// <summary>Connections open when stop began that got every echo and then an orderly close (FIN).</summary>
    ConnectionsDrained,
    /// <summary>Connections still open at the drain deadline, cut with a reset (echoes may be lost: see <see cref="BytesNotEchoed"/>).</summary>
    ConnectionsCutAtStop,
    /// <summary>Bytes received and never echoed because their connection was cut at the drain deadline: 0 in a clean drain.</summary>
    BytesNotEchoed,
    /// <summary>Bytes read and thrown away while stopping: input that arrived after the server stopped reading, read only so that closing sends FIN, not a reset.</summary>
    BytesDiscarded,
    /// <summary>Bytes received from clients.</summary>
    BytesIn,
    /// <summary>Bytes echoed back to clients.</summary>
    BytesOut,
    /// <summary>Receive calls made (each is a system call, or an async operation started).</summary>
    ReceiveCalls,
    /// <summary>Send calls made.</summary>
    SendCalls,
    /// <summary>Receive or send calls that returned "would block": the cost of asking too early.</summary>
    WouldBlock,
    /// <summary>Accept calls made.</summary>
    AcceptCalls,
    /// <summary>Accept calls that returned "would block".</summary>
    AcceptWouldBlock,
    /// <summary>Accept failures from resource exhaustion (EMFILE, ENFILE, ENOBUFS) that made the engine back off.</summary>
    AcceptBackoffs,
    /// <summary>Blocking waits for readiness or completion: select, epoll_wait, kevent, io_uring_enter, a signal wait.</summary>
    Waits,
    /// <summary>Waits that returned because their timeout expired, with nothing ready.</summary>
    WaitTimeouts,
    /// <summary>Ready sockets or events returned by all waits (divide by <see cref="Waits"/> for events per wait).</summary>
    ReadyEvents,
    /// <summary>Sockets handed to the kernel to check, summed over all waits (select passes every socket every time).</summary>
    SocketsScanned,
    /// <summary>Passes of a polling loop over every connection.</summary>
    Sweeps,
    /// <summary>Asynchronous operations the engine started (submissions to io_uring, async socket calls).</summary>
    Submissions,
    /// <summary>Asynchronous operations that completed and notified the engine.</summary>
    Completions,
    /// <summary>Signals received (signal-driven model).</summary>
    Signals,
    /// <summary>Gauge: threads the engine has running now.</summary>
    Threads,
    /// <summary>Peak of <see cref="Threads"/>.</summary>
    PeakThreads,
    /// <summary>Gauge: bytes received and not yet echoed, over all connections.</summary>
    BufferedBytes,
    /// <summary>Peak of <see cref="BufferedBytes"/>.</summary>
    PeakBufferedBytes,
    /// <summary>Unexpected exceptions caught at the top of an engine thread or connection: any value but 0 is a bug.</summary>
    Faults,
    /// <summary>
    /// Receives that found the ring of the server's shared buffer pool dry (io_uring provided buffers,
    /// ENOBUFS): every buffer was held, and the receive waited for one to come back; or a burst outran
    /// the buffers lent, and the receive was armed again at once (with twice as many lent when spares
    /// had been left out).
    /// </summary>
    ReceivesOutOfBuffers,
}
