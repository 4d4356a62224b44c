using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static IoModels.Interop.Kqueue;

namespace IoModels.Epoll;

/// <summary>
/// A kqueue plus an EVFILT_USER event to wake it, and the native array kevent fills: the macOS and
/// FreeBSD counterpart of <see cref="EpollReadinessQueue"/> (the struct layout is chosen in
/// <see cref="Interop.Kqueue"/>). Reading and writing are separate filters, so a change of interest
/// adds or deletes one filter each; edge-triggered is EV_CLEAR.
/// </summary>
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("freebsd")]
internal sealed unsafe class KqueueReadinessQueue : IReadinessQueue
{
    /// <summary>The ident of the wake event (EVFILT_USER idents are a namespace of their own).</summary>
    private const nuint WakeIdent = 1;

    private readonly object _wakeLock = new();
    private readonly int _kq = -1;
    private readonly byte* _events;
    private readonly byte* _changes;
    private readonly int _capacity;
    private readonly ushort _trigger;
    private bool _disposed;

    /// <summary>Creates the kqueue; frees whatever it created if a later step fails.</summary>
    public KqueueReadinessQueue(bool edgeTriggered, int capacity)
    {
        _capacity = capacity;
        _trigger = edgeTriggered ? EV_CLEAR : (ushort)0;
        try
        {
            _kq = kqueue();
            if (_kq < 0)
            {
                throw PlatformException.FromLastError("kqueue");
            }

            if (Interop.Libc.Fcntl(_kq, Interop.Libc.F_SETFD, Interop.Libc.FD_CLOEXEC) < 0)
            {
                throw PlatformException.FromLastError("fcntl");
            }

            _events = (byte*)NativeMemory.Alloc((nuint)capacity, (nuint)EventSize);
            _changes = (byte*)NativeMemory.Alloc(2, (nuint)EventSize);
            Set(_changes, 0, WakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR);
            Apply(_kq, _changes, 1);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Add(int fd, Readiness interest) => Change(fd, Readiness.None, interest);

    public void Change(int fd, Readiness from, Readiness to)
    {
        int count = 0;
        if (((from ^ to) & Readiness.Read) != 0)
        {
            Set(_changes, count++, (nuint)fd, EVFILT_READ, (to & Readiness.Read) != 0 ? (ushort)(EV_ADD | EV_ENABLE | _trigger) : EV_DELETE);
        }

        if (((from ^ to) & Readiness.Write) != 0)
        {
            Set(_changes, count++, (nuint)fd, EVFILT_WRITE, (to & Readiness.Write) != 0 ? (ushort)(EV_ADD | EV_ENABLE | _trigger) : EV_DELETE);
        }

        if (count > 0)
        {
            Apply(_kq, _changes, count);
        }
    }

    public int Wait(int timeoutMilliseconds)
    {
        Timespec timeout = new() { tv_sec = timeoutMilliseconds / 1000, tv_nsec = timeoutMilliseconds % 1000 * 1_000_000L };
        while (true)
        {
            int ready = kevent(_kq, null, 0, _events, _capacity, timeoutMilliseconds < 0 ? null : &timeout);
            if (ready >= 0)
            {
                return ready;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Libc.EINTR)
            {
                throw new PlatformException("kevent", errno);
            }

            // EINTR: a signal arrived; wait again.
        }
    }

    public int FdAt(int index)
    {
        kevent_osx* ev = At(_events, index);
        return ev->filter == EVFILT_USER ? IReadinessQueue.WakeToken : (int)ev->ident;
    }

    public Readiness EventsAt(int index)
    {
        kevent_osx* ev = At(_events, index);
        Readiness ready = ev->filter == EVFILT_WRITE ? Readiness.Write : Readiness.Read;
        return (ev->flags & EV_ERROR) != 0 ? Readiness.Read | Readiness.Write : ready;
    }

    public void Wake()
    {
        lock (_wakeLock)
        {
            if (_disposed)
            {
                return; // the loop has already ended and closed its queue
            }

            byte* change = stackalloc byte[EventSize];
            Set(change, 0, WakeIdent, EVFILT_USER, 0, NOTE_TRIGGER);
            Apply(_kq, change, 1);
        }
    }

    public void AcknowledgeWake()
    {
        // Nothing to do: the wake event was added with EV_CLEAR, so reporting it re-armed it.
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
            if (_kq >= 0)
            {
                _ = Interop.Libc.Close(_kq);
            }

            NativeMemory.Free(_events);
            NativeMemory.Free(_changes);
        }
    }
}
