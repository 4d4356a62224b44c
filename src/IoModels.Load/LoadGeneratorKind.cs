namespace IoModels.Load;

/// <summary>How the load generator talks to the sockets.</summary>
public enum LoadGeneratorKind
{
    /// <summary><see cref="Epoll"/> on Linux, <see cref="Sockets"/> elsewhere.</summary>
    Auto,

    /// <summary>
    /// Dedicated threads, each owning its connections through non-blocking sockets and its own epoll
    /// instance, level-triggered, as a C load client would: no thread-pool hop per completion, so it
    /// can drive a fast server harder than the server can answer. Linux only.
    /// </summary>
    Epoll,

    /// <summary>
    /// The runtime's asynchronous sockets (<see cref="System.Net.Sockets.SocketAsyncEventArgs"/>):
    /// portable, but every completion hops to a thread-pool thread, which caps it near 0.8 million
    /// messages a second on 2 cores (measured against the C epoll server, where a C client reached 1.4 M).
    /// </summary>
    Sockets,
}
