namespace IoModels.Epoll;

/// <summary>What a socket is watched for, or was reported ready for, in an event loop's kernel queue.</summary>
[Flags]
internal enum Readiness
{
    /// <summary>Not watched (a listener during an accept back-off).</summary>
    None = 0,
    /// <summary>Data, end of stream or an error can be read (EPOLLIN, EVFILT_READ); for a listener, a connection can be accepted.</summary>
    Read = 1,
    /// <summary>The kernel's send buffer has room (EPOLLOUT, EVFILT_WRITE).</summary>
    Write = 2,
}
