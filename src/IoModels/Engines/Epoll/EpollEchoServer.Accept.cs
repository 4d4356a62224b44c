using System.Net;
using System.Runtime.InteropServices;
using static IoModels.Interop.Libc;

namespace IoModels.Epoll;

/// <summary>Accepting: until EAGAIN, under the shared <see cref="AcceptPolicy"/>; and handing connections to a loop.</summary>
public sealed unsafe partial class EpollEchoServer
{
    /// <summary>Accepts until EAGAIN (in both modes: one wake-up, the whole accept queue).</summary>
    private void AcceptAll(EventLoop loop)
    {
        byte* address = stackalloc byte[Interop.SockAddr.StorageSize];
        while (!Stopping)
        {
            AcceptDecision decision = loop.AcceptPolicy.BeforeAccept(); // nearly out of descriptors: a pause, as on EMFILE
            if (decision.Step == AcceptStep.Done)
            {
                uint addressLength = Interop.SockAddr.StorageSize;
                int fd = AcceptNonBlocking(loop.ListenerFd, address, &addressLength, out int errno);
                if (fd >= 0)
                {
                    loop.AcceptPolicy.Accepted();
                    Admit(loop, fd, Interop.SockAddr.ToEndPoint(address, addressLength));
                    continue;
                }

                decision = loop.AcceptPolicy.FailedWithErrno(errno);
            }

            switch (decision.Step)
            {
                case AcceptStep.Retry or AcceptStep.Skip:
                    continue;
                case AcceptStep.Pause:
                    // The pending connection stays queued, so a level-triggered listener would be
                    // reported again at once: stop watching it until the back-off is over.
                    loop.Queue.Change(loop.ListenerFd, Readiness.Read, Readiness.None);
                    loop.ListenerArmed = false;
                    loop.AcceptResumeAt = decision.ResumeAt(loop.Now);
                    return;
                default:
                    return; // Done: the queue is empty; Stop: the listener is closed
            }
        }
    }

    /// <summary>Watches the listener again once an accept back-off is over.</summary>
    private static void ResumeAcceptingWhenDue(EventLoop loop)
    {
        if (!loop.ListenerArmed && !loop.Draining && loop.Now >= loop.AcceptResumeAt)
        {
            loop.Queue.Change(loop.ListenerFd, Readiness.None, Readiness.Read);
            loop.ListenerArmed = true;
        }
    }

    /// <summary>
    /// Counts an accepted descriptor in (or closes it at once over the connection limit) and gives it
    /// to this loop, or with kqueue and several loops to the next loop in turn.
    /// </summary>
    private void Admit(EventLoop loop, int fd, EndPoint? remote)
    {
        long id = Admit(remote);
        if (id == 0)
        {
            _ = Interop.Libc.Close(fd); // over the connection limit: the client sees an orderly end
            return;
        }

        int one = 1;
        _ = SetSockOpt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int)); // fails only on a dead socket, which recv will report
        var connection = new EpollConnection(fd, id, remote, new OutputBuffer(Options.OutputBufferLimit, Statistics)) { LastActive = loop.Now };
        Track(connection);
        EventLoop target = _loops.Length == 1 || OperatingSystem.IsLinux() ? loop : _loops[_nextLoop++ % _loops.Length];
        if (target == loop)
        {
            Adopt(loop, connection);
        }
        else if (!target.TryHandOver(connection))
        {
            Close(loop, connection, CloseReason.ServerStopping); // that loop has already ended
        }
    }

    /// <summary>
    /// Takes a connection into this loop's table and kernel queue, watching it for reading. The kernel
    /// may refuse to watch one more (ENOMEM, or ENOSPC at fs.epoll.max_user_watches): that client is
    /// reset, the condition is logged as a back-off, and the loop keeps serving the others.
    /// </summary>
    private void Adopt(EventLoop loop, EpollConnection connection)
    {
        loop.Insert(connection);
        try
        {
            loop.Queue.Add(connection.Fd, Readiness.Read); // data that arrived already is reported at once
        }
        catch (PlatformException exception)
        {
            _ = loop.AcceptPolicy.Exhausted(Interop.Libc.ToSocketError(exception.Errno)); // logged and counted once a burst
            Close(loop, connection, CloseReason.Reset);
            return;
        }

        connection.Registered = Readiness.Read;
    }

    /// <summary>A wake-up: take the connections other loops handed over, and begin draining once stop has begun.</summary>
    private void OnWake(EventLoop loop)
    {
        loop.Queue.AcknowledgeWake();
        while (loop.TryTakeHandedOver(out EpollConnection? connection))
        {
            connection!.LastActive = loop.Now;
            Adopt(loop, connection);
        }

        if (Stopping && !loop.Draining)
        {
            BeginDrain(loop);
        }
    }

    /// <summary>accept4 on Linux (non-blocking from the start); accept then fcntl elsewhere.</summary>
    private static int AcceptNonBlocking(int listenerFd, byte* address, uint* addressLength, out int errno)
    {
        int fd;
        if (OperatingSystem.IsLinux())
        {
            fd = Interop.Accept4.accept4(listenerFd, address, addressLength, Interop.Accept4.SOCK_NONBLOCK | Interop.Accept4.SOCK_CLOEXEC);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            return fd;
        }

        fd = Accept(listenerFd, address, addressLength);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return fd;
        }

        errno = 0;
        if (Fcntl(fd, F_SETFL, Fcntl(fd, F_GETFL, 0) | O_NONBLOCK) < 0 || Fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            _ = Interop.Libc.Close(fd);
            throw new PlatformException("fcntl", errno);
        }

        return fd;
    }
}
