namespace IoModels;

/// <summary>What a process has only so many of, as <see cref="ProcessLimits"/> counts it.</summary>
public enum ProcessResource
{
    /// <summary>Threads (each also a PID, and a process as RLIMIT_NPROC counts).</summary>
    Threads,
    /// <summary>Memory mappings (lines of /proc/PID/maps); every thread stack takes several.</summary>
    Mappings,
    /// <summary>File descriptors: sockets, epoll and io_uring instances, eventfds.</summary>
    Descriptors,
}
