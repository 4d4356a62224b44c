using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static IoModels.Interop.Epoll;

namespace IoModels.Epoll;

/// <summary>
/// An epoll instance plus an eventfd in its set to wake it, and the native array epoll_wait fills.
/// Level- or edge-triggered for every socket it watches (the wake eventfd is always level-triggered).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EpollReadinessQueue : IReadinessQueue
{
    /// <summary>epoll_event.data of the wake eventfd; every other registration carries its descriptor.</summary>
    private const ulong WakeData = ulong.MaxValue;

    private readonly object _wakeLock = new();
    private readonly int _epfd = -1;
    private readonly int _wakeFd = -1;
    private readonly byte* _events;
    private readonly int _capacity;
    private readonly uint _trigger;
    private bool _disposed;

    /// <summary>Creates the epoll instance; frees whatever it created if a later step fails.</summary>
    public EpollReadinessQueue(bool edgeTriggered, int capacity)
    {
        _capacity = capacity;
        _trigger = edgeTriggered ? EPOLLET : 0;
        try
        {
            _epfd = epoll_create1(EPOLL_CLOEXEC);
            if (_epfd < 0)
            {
                throw PlatformException.FromLastError("epoll_create1");
            }

            _wakeFd = Interop.EventFd.Create(0, Interop.EventFd.EFD_NONBLOCK | Interop.EventFd.EFD_CLOEXEC);
            if (_wakeFd < 0)
            {
                throw PlatformException.FromLastError("eventfd");
            }

            Control(_epfd, EPOLL_CTL_ADD, _wakeFd, EPOLLIN, WakeData);
            _events = (byte*)NativeMemory.Alloc((nuint)capacity, (nuint)EventSize);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Add(int fd, Readiness interest) => Control(_epfd, EPOLL_CTL_ADD, fd, Mask(interest), (ulong)fd);

    public void Change(int fd, Readiness from, Readiness to) => Control(_epfd, EPOLL_CTL_MOD, fd, Mask(to), (ulong)fd);

    public int Wait(int timeoutMilliseconds)
    {
        while (true)
        {
            int ready = epoll_wait(_epfd, _events, _capacity, timeoutMilliseconds);
            if (ready >= 0)
            {
                return ready;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Libc.EINTR)
            {
                throw new PlatformException("epoll_wait", errno);
            }

            // EINTR: a signal arrived (a debugger, SIGCHLD, the runtime's own); wait again.
        }
    }

    public int FdAt(int index) => (int)DataAt(_events, index); // WakeData (all ones) reads as WakeToken (-1)

    public Readiness EventsAt(int index)
    {
        uint events = Interop.Epoll.EventsAt(_events, index);
        Readiness ready = Readiness.None;
        if ((events & (EPOLLIN | EPOLLRDHUP)) != 0)
        {
            ready |= Readiness.Read;
        }

        if ((events & EPOLLOUT) != 0)
        {
            ready |= Readiness.Write;
        }

        if ((events & (EPOLLERR | EPOLLHUP)) != 0)
        {
            ready |= Readiness.Read | Readiness.Write;
        }

        return ready;
    }

    public void Wake()
    {
        lock (_wakeLock)
        {
            if (_disposed)
            {
                return; // the loop has already ended and closed its descriptors
            }

            ulong one = 1;
            if (Interop.Libc.Write(_wakeFd, &one, sizeof(ulong)) < 0 && Marshal.GetLastPInvokeError() != Interop.Libc.EAGAIN)
            {
                throw PlatformException.FromLastError("write(eventfd)");
            }

            // EAGAIN: the counter is saturated, so the eventfd is readable already and the loop will wake.
        }
    }

    public void AcknowledgeWake()
    {
        ulong value;
        _ = Interop.Libc.Read(_wakeFd, &value, sizeof(ulong)); // resets the counter; EAGAIN just means another read got it
    }

    private uint Mask(Readiness interest)
    {
        uint mask = _trigger;
        if ((interest & Readiness.Read) != 0)
        {
            mask |= EPOLLIN | EPOLLRDHUP;
        }

        if ((interest & Readiness.Write) != 0)
        {
            mask |= EPOLLOUT;
        }

        return mask;
    }

    public void Dispose()
    {
        lock (_wakeLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_wakeFd >= 0)
            {
                _ = Interop.Libc.Close(_wakeFd);
            }

            if (_epfd >= 0)
            {
                _ = Interop.Libc.Close(_epfd);
            }

            NativeMemory.Free(_events);
        }
    }
}
