namespace IoModels.Epoll;

/// <summary>
/// An event loop's kernel queue of watched sockets: epoll on Linux, kqueue on macOS and FreeBSD.
/// Only the loop's own thread calls it, except <see cref="Wake"/>, which any thread may call.
/// </summary>
internal interface IReadinessQueue : IDisposable
{
    /// <summary>What <see cref="FdAt"/> returns for the event raised by <see cref="Wake"/>.</summary>
    const int WakeToken = -1;

    /// <summary>Starts watching <paramref name="fd"/> for <paramref name="interest"/>.</summary>
    void Add(int fd, Readiness interest);

    /// <summary>Changes what <paramref name="fd"/> is watched for. Call only on a real change: each is a system call.</summary>
    void Change(int fd, Readiness from, Readiness to);

    /// <summary>
    /// Blocks until something is ready, <see cref="Wake"/> is called, or <paramref name="timeoutMilliseconds"/>
    /// pass (-1: no timeout). Returns the number of events; 0 means the timeout expired. Retries EINTR.
    /// </summary>
    int Wait(int timeoutMilliseconds);

    /// <summary>The descriptor of ready event <paramref name="index"/>, or <see cref="WakeToken"/>.</summary>
    int FdAt(int index);

    /// <summary>What event <paramref name="index"/> reports. An error or hang-up reports both, so the next call on the socket surfaces it.</summary>
    Readiness EventsAt(int index);

    /// <summary>Makes the loop's current or next <see cref="Wait"/> return (stop, or a connection handed over). Thread-safe.</summary>
    void Wake();

    /// <summary>Called by the loop when it sees the wake event, to re-arm it.</summary>
    void AcknowledgeWake();
}
