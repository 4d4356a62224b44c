using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static IoModels.Interop.Libc;

namespace IoModels.Epoll;

/// <summary>
/// The IO-multiplexing model done the way servers do it: a few event loops, each blocked in one
/// epoll_wait (kqueue's kevent on macOS and FreeBSD) that returns only the sockets that are ready,
/// and non-blocking recv/send on the raw descriptors.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. One thread, an event loop, serves many connections. It registers each socket with the kernel
///    (epoll_ctl ADD when it is accepted), then blocks in ONE call, epoll_wait, which returns only
///    the sockets that are ready. Unlike select, the watched set lives in the kernel and is not
///    passed in again on every call: select and poll hook a wait-queue entry onto every socket on
///    every call and unhook them all before returning, while epoll hooks one at ADD whose callback
///    puts the socket on a ready list, and epoll_wait reads that list. So a wait costs in proportion
///    to the ready sockets, not to all of them: see "events per wait". The set is not fixed: the
///    loop changes a socket's interest with epoll_ctl (points 3 and 5), one system call each time.
///    epoll wins nothing when most sockets are ready on every wait, and short connections pay an
///    epoll_ctl ADD each that poll never pays.
/// 2. That wait is phase 1 of a read (waiting for data); phase 2 (copying it) is a non-blocking recv,
///    which now succeeds at once. Every socket is non-blocking: a call made too early returns EAGAIN
///    (counted as would-block) instead of stalling the loop and every other client on it.
/// 3. The echo: recv into the loop's one scratch buffer, uppercase, and send straight back. Only what
///    the kernel does not take goes into the connection's bounded output queue, and only then does the
///    loop ask to be told when the socket is writable (EPOLLOUT); once the queue drains it stops
///    asking. Watching EPOLLOUT all the time would wake the loop for every idle, writable socket.
/// 4. Backpressure: while a connection's output queue is full the loop stops reading it, so the
///    kernel's buffers fill and TCP slows the client down; memory stays bounded.
/// 5. Level-triggered (the default): epoll_wait reports a socket for as long as it IS ready. Reading
///    part of the data is fine: the socket is reported again next time, so one recv per event is
///    enough. The price: a socket the loop cannot serve right now (end of stream seen, output queue
///    full, the listener during an EMFILE back-off) must have that interest removed with epoll_ctl,
///    or every wait returns it at once and the loop spins.
///    Edge-triggered (--edge-triggered, EPOLLET): a socket is reported when it BECOMES ready, once per
///    new arrival, not once per socket; data left unread is not reported again. So the loop must recv
///    (and accept) until EAGAIN, or the leftover data waits unreported until the client sends more,
///    and may hang the connection; and when it stops reading early (output queue full)
///    it must remember that data is waiting and come back to it itself once there is room. In
///    return: fewer events, and no epoll_ctl to stop being told about what it cannot serve.
/// 6. --loops N: N such loops on N threads, each with its own epoll instance and, on Linux, its own
///    listening socket bound with SO_REUSEPORT, so the kernel spreads new connections over the loops
///    and they share nothing. (With kqueue, loop 0 accepts and hands connections round-robin.)
/// 7. Stop: each loop watches an eventfd; writing to it wakes the loop, which closes its listener,
///    stops reading, sends what is queued, then shuts each connection down with FIN (see
///    EpollEchoServer.Drain.cs); when all are closed or the drain deadline passes, it resets what
///    is left, closes its epoll instance, and ends.
/// This file is the loop, the read and the interest; the write half (send at once, queue the rest,
/// flush on EPOLLOUT) is EpollEchoServer.Send.cs. Accepting is in EpollEchoServer.Accept.cs,
/// how connections end (close, idle, stop) in EpollEchoServer.Closing.cs and .Drain.cs, start-up in
/// EpollEchoServer.Startup.cs; the accept policy, errno table and idle rule are the shared ones.
/// On macOS and FreeBSD the same loop runs on kqueue (<see cref="KqueueReadinessQueue"/>): reading and
/// writing are separate filters, and edge-triggered is EV_CLEAR.
/// </remarks>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("freebsd")]
public sealed unsafe partial class EpollEchoServer : EchoServerBase
{
    /// <summary>
    /// Most events one wait returns. 256: a busy loop drains that many ready sockets per system call,
    /// and more would only delay the timeout checks; ready sockets beyond it come back next wait.
    /// </summary>
    private const int MaxEventsPerWait = 256;

    /// <summary>From <see cref="SendSome"/>: the kernel's send buffer is full, nothing was sent. Negative, so never a byte count.</summary>
    private const int SendWouldBlock = -1;

    /// <summary>From <see cref="SendSome"/>: the send failed and the connection is closed; the caller must not touch it again.</summary>
    private const int SendClosed = -2;

    private readonly bool _edgeTriggered;
    private EventLoop[] _loops = [];
    private int _nextLoop;

    public EpollEchoServer(EchoServerOptions options)
        : base("epoll", options)
    {
        _edgeTriggered = Options.EdgeTriggered;
    }

    /// <summary>The loop: wait, handle each ready socket, check the clocks, repeat until stopped.</summary>
    private void Run(EventLoop loop)
    {
        IReadinessQueue queue = loop.Queue;
        LocalCounters counters = loop.Counters;
        loop.Now = Environment.TickCount64;
        loop.NextIdleSweep = loop.Now + Idle.SweepMilliseconds;
        try
        {
            while (!Aborting)
            {
                int ready = queue.Wait(WaitTimeout(loop)); // the one blocking call
                loop.Now = Environment.TickCount64;
                counters.Increment(EchoCounter.Waits);
                counters.Add(EchoCounter.ReadyEvents, ready);
                counters.Add(EchoCounter.WaitTimeouts, ready == 0 ? 1 : 0);
                Trace.Record(TraceEvent.EventsReturned, 0, ready, Statistics[EchoCounter.ConnectionsActive]);
                for (int i = 0; i < ready; i++)
                {
                    int fd = queue.FdAt(i);
                    if (fd == IReadinessQueue.WakeToken) // first: a loop without a listener has ListenerFd -1 too
                    {
                        OnWake(loop); // connections handed over, or stop
                    }
                    else if (fd == loop.ListenerFd)
                    {
                        AcceptAll(loop);
                    }
                    else if (loop.Find(fd) is { } connection)
                    {
                        if (loop.Draining)
                        {
                            ServeDraining(loop, connection, queue.EventsAt(i));
                        }
                        else
                        {
                            Serve(loop, connection, queue.EventsAt(i));
                        }
                    }

                    // Otherwise the connection was closed earlier in this batch: a stale event, dropped.
                }

                ResumeAcceptingWhenDue(loop);
                if (Idle.Enabled && !loop.Draining && loop.Now >= loop.NextIdleSweep)
                {
                    CloseIdle(loop);
                }

                counters.FlushTo(Statistics);
            }
        }
        finally
        {
            CloseEverything(loop);
            counters.FlushTo(Statistics);
        }
    }

    /// <summary>A ready connection: first send what is queued (it may make room), then read.</summary>
    private void Serve(EventLoop loop, EpollConnection connection, Readiness events)
    {
        if ((events & Readiness.Write) != 0 && !connection.Output.IsEmpty && !Flush(loop, connection))
        {
            return; // closed
        }

        if ((events & Readiness.Read) != 0 && !connection.PeerClosed && !Receive(loop, connection))
        {
            return; // closed
        }

        UpdateInterest(loop, connection);
    }

    /// <summary>
    /// Reads and echoes. Level-triggered: one recv, the kernel reports the rest. Edge-triggered: until
    /// EAGAIN. Returns false if the connection was closed.
    /// </summary>
    private bool Receive(EventLoop loop, EpollConnection connection)
    {
        while (true)
        {
            int room = Math.Min(loop.BufferSize, connection.Output.FreeSpace);
            if (room == 0)
            {
                connection.ReadPending = true; // backpressure: not one byte more until the client reads
                return true;
            }

            nint received = Recv(connection.Fd, loop.Scratch, (nuint)room, 0);
            loop.Counters.Increment(EchoCounter.ReceiveCalls);
            if (received > 0)
            {
                int count = (int)received;
                loop.Counters.Add(EchoCounter.BytesIn, count);
                connection.Received(count);
                connection.LastActive = loop.Now;
                AsciiUpper.ToUpperInPlace(new Span<byte>(loop.Scratch, count));
                if (!Echo(loop, connection, count))
                {
                    return false;
                }

                if (!_edgeTriggered)
                {
                    connection.ReadPending = false;
                    return true; // level-triggered: if more is waiting, the next wait says so
                }

                continue; // edge-triggered: drain until EAGAIN, no second notice will come
            }

            if (received == 0)
            {
                // End of stream: the client shut down its sending side. Send what is queued, then close.
                connection.PeerClosed = true;
                connection.ReadPending = false;
                if (connection.Output.IsEmpty)
                {
                    Close(loop, connection, CloseReason.ClientClosed);
                    return false;
                }

                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                loop.Counters.Increment(EchoCounter.WouldBlock);
                connection.ReadPending = false;
                return true;
            }

            if (errno != EINTR)
            {
                Close(loop, connection, CloseReasonFor(ToSocketError(errno), "recv"));
                return false;
            }
        }
    }

    /// <summary>
    /// Watch for reading while there is room to read into (always, edge-triggered: see 5.), and for
    /// writing only while bytes are queued. One epoll_ctl, and only when that actually changes.
    /// </summary>
    private void UpdateInterest(EventLoop loop, EpollConnection connection)
    {
        Readiness wanted = Readiness.None;
        if (_edgeTriggered || connection.SendShut || (!connection.PeerClosed && !connection.Output.IsFull && !loop.Draining))
        {
            wanted |= Readiness.Read; // draining: only once our side is shut down, to discard input and see the client's close
        }

        if (!connection.Output.IsEmpty)
        {
            wanted |= Readiness.Write;
        }

        if (wanted != connection.Registered)
        {
            loop.Queue.Change(connection.Fd, connection.Registered, wanted);
            connection.Registered = wanted;
        }
    }
}
