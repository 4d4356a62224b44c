using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
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

    /// <summary>On Linux with several loops, every loop has its own listener sharing the port.</summary>
    protected override bool ReusePort => OperatingSystem.IsLinux() && Options.Loops > 1;

    protected override void StartCore(Socket listener)
    {
        var loops = new List<EventLoop>(Options.Loops);
        try
        {
            for (int i = 0; i < Options.Loops; i++)
            {
                int listenerFd = -1;
                if (i == 0)
                {
                    listenerFd = TakeDescriptor(listener);
                }
                else if (OperatingSystem.IsLinux())
                {
                    using Socket extra = SocketSetup.CreateListener(Options with { EndPoint = LocalEndPoint }, reusePort: true);
                    listenerFd = TakeDescriptor(extra);
                }

                loops.Add(new EventLoop(i, listenerFd, CreateQueue(listenerFd), Options.BufferSize));
            }
        }
        catch
        {
            loops.ForEach(loop => loop.Dispose());
            throw;
        }

        _loops = [.. loops];
        foreach (EventLoop loop in _loops)
        {
            StartThread($"epoll-loop-{loop.Index}", () => Run(loop));
        }
    }

    /// <summary>The loop: wait, handle each ready socket, check the clocks, repeat until stopped.</summary>
    private void Run(EventLoop loop)
    {
        IReadinessQueue queue = loop.Queue;
        loop.Now = Environment.TickCount64;
        loop.NextIdleSweep = loop.Now + Idle.SweepMilliseconds;
        try
        {
            while (!Aborting)
            {
                int ready = queue.Wait(WaitTimeout(loop)); // the one blocking call
                loop.Now = Environment.TickCount64;
                loop.Waits++;
                loop.ReadyEvents += ready;
                Trace.Record(TraceEvent.EventsReturned, 0, ready, Statistics[EchoCounter.ConnectionsActive]);
                if (ready == 0)
                {
                    loop.WaitTimeouts++;
                }

                for (int i = 0; i < ready; i++)
                {
                    int fd = queue.FdAt(i);
                    if (fd == IReadinessQueue.WakeToken) // first: a loop without a listener has ListenerFd -1 too
                    {
                        queue.AcknowledgeWake();
                        AdoptHandedOver(loop);
                        if (Stopping && !loop.Draining)
                        {
                            BeginDrain(loop);
                        }
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

                if (!loop.ListenerArmed && !loop.Draining && loop.Now >= loop.AcceptResumeAt)
                {
                    loop.Queue.Change(loop.ListenerFd, Readiness.None, Readiness.Read); // the back-off is over
                    loop.ListenerArmed = true;
                }

                if (Idle.Enabled && !loop.Draining && loop.Now >= loop.NextIdleSweep)
                {
                    CloseIdle(loop);
                }

                PublishCounters(loop);
            }
        }
        finally
        {
            CloseEverything(loop);
            PublishCounters(loop);
        }
    }

    /// <summary>A ready connection: first send what is queued (it may make room), then read.</summary>
    private void Serve(EventLoop loop, Connection connection, Readiness events)
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
    private bool Receive(EventLoop loop, Connection connection)
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
            loop.ReceiveCalls++;
            if (received > 0)
            {
                int count = (int)received;
                loop.BytesIn += count;
                connection.BytesIn += count;
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
                loop.WouldBlock++;
                connection.ReadPending = false;
                return true;
            }

            if (errno != EINTR)
            {
                Close(loop, connection, Lost("recv", errno));
                return false;
            }
        }
    }

    /// <summary>Sends <paramref name="count"/> uppercased bytes from the scratch buffer; queues what the kernel did not take.</summary>
    private bool Echo(EventLoop loop, Connection connection, int count)
    {
        int sent = 0;
        if (connection.Output.IsEmpty) // otherwise older bytes are queued, and these must go after them
        {
            sent = SendSome(loop, connection, loop.Scratch, count);
            if (sent == SendClosed)
            {
                return false;
            }

            if (sent == SendWouldBlock)
            {
                sent = 0; // the kernel took nothing: all of it is queued below
            }
        }

        if (sent < count)
        {
            // room was at most the queue's free space, so the rest always fits
            connection.Output.Append(new ReadOnlySpan<byte>(loop.Scratch + sent, count - sent));
        }

        return true;
    }

    /// <summary>Sends queued bytes until the queue is empty or the kernel's buffer is full. Returns false if the connection was closed.</summary>
    private bool Flush(EventLoop loop, Connection connection)
    {
        OutputBuffer output = connection.Output;
        while (!output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = output.GetReadSpan();
            int sent;
            fixed (byte* data = pending)
            {
                sent = SendSome(loop, connection, data, pending.Length);
            }

            if (sent == SendWouldBlock)
            {
                break; // the rest stays queued; EPOLLOUT says when there is room again
            }

            if (sent == SendClosed)
            {
                return false;
            }

            output.Consume(sent);
            connection.LastActive = loop.Now;
        }

        if (output.IsEmpty && connection.PeerClosed)
        {
            Close(loop, connection, CloseReason.ClientClosed); // every echo is out: now our side ends too
            return false;
        }

        // Room again: read what backpressure left waiting (edge-triggered, nobody else would).
        return !connection.ReadPending || connection.PeerClosed || loop.Draining || Receive(loop, connection);
    }

    /// <summary>
    /// One non-blocking send, the step <see cref="Echo"/> and <see cref="Flush"/> share. Returns the
    /// bytes the kernel took (possibly fewer than <paramref name="length"/>: the caller keeps the rest),
    /// <see cref="SendWouldBlock"/> if its send buffer is full (EAGAIN, counted as would-block), or
    /// <see cref="SendClosed"/> after another error has closed the connection. EINTR (a signal arrived
    /// before anything was sent) is simply tried again.
    /// </summary>
    /// <remarks>
    /// Asked to be inlined into both callers: they run for every echoed message, and sharing the step
    /// should not add a call to the path this engine is measured on against a C epoll server.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SendSome(EventLoop loop, Connection connection, byte* data, int length)
    {
        while (true)
        {
            nint result = Send(connection.Fd, data, (nuint)length, MSG_NOSIGNAL); // MSG_NOSIGNAL (Linux): a reset peer is EPIPE, not SIGPIPE
            loop.SendCalls++;
            if (result >= 0)
            {
                int sent = (int)result; // at most length, so it fits
                loop.BytesOut += sent;
                connection.BytesOut += sent;
                return sent;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                loop.WouldBlock++;
                return SendWouldBlock;
            }

            if (errno != EINTR)
            {
                Close(loop, connection, Lost("send", errno));
                return SendClosed;
            }
        }
    }

    /// <summary>
    /// Watch for reading while there is room to read into (always, edge-triggered: see 5.), and for
    /// writing only while bytes are queued. One epoll_ctl, and only when that actually changes.
    /// </summary>
    private void UpdateInterest(EventLoop loop, Connection connection)
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

    /// <summary>Accepts until EAGAIN (in both modes: one wake-up, the whole accept queue).</summary>
    private void AcceptAll(EventLoop loop)
    {
        byte* address = stackalloc byte[Interop.SockAddr.StorageSize];
        while (!Stopping)
        {
            uint addressLength = Interop.SockAddr.StorageSize;
            int errno = EMFILE; // nearly out of descriptors (the runtime needs some to start threads): as if accept said so
            int fd = loop.Headroom.IsLow() ? -1 : AcceptNonBlocking(loop.ListenerFd, address, &addressLength, out errno);
            loop.AcceptCalls++;
            if (fd < 0)
            {
                if (errno == EAGAIN)
                {
                    loop.AcceptWouldBlock++;
                    return;
                }

                if (errno == EINTR)
                {
                    continue;
                }

                if (errno == ECONNABORTED || errno == EPROTO || errno == ECONNRESET || errno == ETIMEDOUT ||
                    errno == ENETUNREACH || errno == EHOSTUNREACH)
                {
                    EchoLog.AcceptFailed(Log, Model, new SocketErrorCode(SocketError.ConnectionAborted)); // died in the backlog
                    continue;
                }

                if (!(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
                {
                    // Not expected (EPERM from a firewall rule, or a bug): counted as a fault, then
                    // backed off like exhaustion, so the loop keeps serving and tries again later.
                    ReportFault(new PlatformException("accept", errno));
                }

                // Out of descriptors or memory. The pending connection stays queued, so a
                // level-triggered listener would be reported again at once: stop watching it.
                SocketError error = errno == EMFILE || errno == ENFILE ? SocketError.TooManyOpenSockets : SocketError.NoBufferSpaceAvailable;
                TimeSpan delay = loop.Backoff.Fail(Log, Model, Statistics, error);
                loop.Queue.Change(loop.ListenerFd, Readiness.Read, Readiness.None);
                loop.ListenerArmed = false;
                loop.AcceptResumeAt = loop.Now + (long)delay.TotalMilliseconds;
                return;
            }

            loop.Backoff.Succeeded();
            EndPoint? remote = Interop.SockAddr.ToEndPoint(address, addressLength);
            long id = Admit(remote);
            if (id == 0)
            {
                _ = Interop.Libc.Close(fd); // over the connection limit: the client sees an orderly end
                continue;
            }

            int one = 1;
            _ = SetSockOpt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int)); // fails only on a dead socket, which recv will report
            var connection = new Connection(fd, id, remote, Options.OutputBufferLimit, Statistics) { LastActive = loop.Now };
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
    }

    /// <summary>Takes a connection into this loop's table and kernel queue, watching it for reading.</summary>
    private static void Adopt(EventLoop loop, Connection connection)
    {
        loop.Insert(connection);
        loop.Queue.Add(connection.Fd, Readiness.Read); // data that arrived already is reported at once
        connection.Registered = Readiness.Read;
    }

    private static void AdoptHandedOver(EventLoop loop)
    {
        while (loop.TryTakeHandedOver(out Connection? connection))
        {
            connection!.LastActive = loop.Now;
            Adopt(loop, connection);
        }
    }

    /// <summary>
    /// Closes the descriptor (which also removes it from the kernel queue) and counts the connection
    /// out; cut at the drain deadline, with a reset.
    /// </summary>
    private void Close(EventLoop loop, Connection connection, CloseReason reason)
    {
        if (reason == CloseReason.ClientClosed && !connection.SendShut)
        {
            _ = Shutdown(connection.Fd, SHUT_WR); // FIN after the last echo; a failure means the peer is gone already
        }

        _ = reason is CloseReason.ServerStopping or CloseReason.IdleStalled ? SocketSetup.AbortDescriptor(connection.Fd) : Interop.Libc.Close(connection.Fd);
        if (loop.Find(connection.Fd) == connection)
        {
            loop.Remove(connection);
        }

        long unechoed = connection.Output.Count;
        connection.Output.Dispose();
        Closed(connection.Id, connection.Remote, connection.BytesIn, connection.BytesOut, reason, unechoed);
    }

    /// <summary>
    /// A recv or send error ends this connection only. The usual ones mean the peer is gone; any other
    /// (ENOBUFS or ENOMEM under memory pressure, or a bug) is also counted as a fault, but must not end
    /// the loop and every other connection on it.
    /// </summary>
    private CloseReason Lost(string call, int errno)
    {
        if (!(errno == ECONNRESET || errno == EPIPE || errno == ETIMEDOUT || errno == ENOTCONN || errno == ECONNABORTED ||
              errno == EHOSTUNREACH || errno == ENETUNREACH || errno == ENETRESET))
        {
            ReportFault(new PlatformException(call, errno));
        }

        return CloseReason.Reset;
    }

    /// <summary>The idle rule (<see cref="IdleRule"/>) over this loop's connections, once a sweep period.</summary>
    private void CloseIdle(EventLoop loop)
    {
        Connection?[] table = loop.Table;
        for (int fd = 0; fd < table.Length; fd++)
        {
            if (table[fd] is not { } connection)
            {
                continue;
            }

            int sample = connection.UnsentSample;
            IdleVerdict verdict = Idle.Check(connection.LastActive, loop.Now, connection.Fd, !connection.Output.IsEmpty, ref sample);
            connection.UnsentSample = sample;
            if (verdict == IdleVerdict.Moved)
            {
                connection.LastActive = loop.Now;
            }
            else if (verdict is IdleVerdict.Silent or IdleVerdict.Stalled)
            {
                Close(loop, connection, IdleRule.CloseReasonOf(verdict));
            }
        }

        loop.NextIdleSweep = loop.Now + Idle.SweepMilliseconds;
    }

    /// <summary>Block until the next idle sweep or the end of an accept back-off, whichever comes first; no timeout otherwise.</summary>
    private int WaitTimeout(EventLoop loop)
    {
        long deadline = Idle.Enabled ? loop.NextIdleSweep : long.MaxValue;
        if (!loop.ListenerArmed)
        {
            deadline = Math.Min(deadline, loop.AcceptResumeAt);
        }

        return deadline == long.MaxValue ? -1 : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
    }

    private void CloseEverything(EventLoop loop)
    {
        foreach (Connection connection in loop.CloseToHandovers())
        {
            Close(loop, connection, CloseReason.ServerStopping);
        }

        Connection?[] table = loop.Table;
        for (int fd = 0; fd < table.Length; fd++)
        {
            if (table[fd] is { } connection)
            {
                Close(loop, connection, CloseReason.ServerStopping);
            }
        }

        loop.Dispose();
    }

    /// <summary>Adds the loop's local counts to the shared statistics: a handful of atomic adds per wait, not per call.</summary>
    private void PublishCounters(EventLoop loop)
    {
        Publish(EchoCounter.Waits, ref loop.Waits);
        Publish(EchoCounter.WaitTimeouts, ref loop.WaitTimeouts);
        Publish(EchoCounter.ReadyEvents, ref loop.ReadyEvents);
        Publish(EchoCounter.ReceiveCalls, ref loop.ReceiveCalls);
        Publish(EchoCounter.SendCalls, ref loop.SendCalls);
        Publish(EchoCounter.WouldBlock, ref loop.WouldBlock);
        Publish(EchoCounter.BytesIn, ref loop.BytesIn);
        Publish(EchoCounter.BytesOut, ref loop.BytesOut);
        Publish(EchoCounter.AcceptCalls, ref loop.AcceptCalls);
        Publish(EchoCounter.AcceptWouldBlock, ref loop.AcceptWouldBlock);
        Publish(EchoCounter.BytesDiscarded, ref loop.BytesDiscarded);
    }

    private void Publish(EchoCounter counter, ref long local)
    {
        if (local != 0)
        {
            Statistics.Add(counter, local);
            local = 0;
        }
    }

    protected override void BeginDrain() => WakeLoops(); // each loop sees Stopping and begins to drain

    protected override Task StopCoreAsync()
    {
        WakeLoops(); // each loop sees Aborting, resets what it still owns and ends; the base joins it
        return Task.CompletedTask;
    }

    private void WakeLoops()
    {
        foreach (EventLoop loop in _loops)
        {
            loop.Queue.Wake();
        }
    }

    /// <summary>
    /// A raw descriptor for a listening socket, owned by the loop: a duplicate, so the managed socket
    /// can be disposed (the base does, on stop) without closing the descriptor under a running loop.
    /// </summary>
    private static int TakeDescriptor(Socket listener)
    {
        listener.Blocking = false; // the flag lives on the shared open file, so the duplicate is non-blocking too
        int fd = Fcntl((int)listener.SafeHandle.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
        return fd >= 0 ? fd : throw PlatformException.FromLastError("fcntl(F_DUPFD_CLOEXEC)");
    }

    private IReadinessQueue CreateQueue(int listenerFd)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return new EpollReadinessQueue(_edgeTriggered, MaxEventsPerWait);
            }

            if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
            {
                return new KqueueReadinessQueue(_edgeTriggered, MaxEventsPerWait);
            }

            throw new PlatformNotSupportedException(EpollModel.UnsupportedReason);
        }
        catch
        {
            if (listenerFd >= 0)
            {
                _ = Interop.Libc.Close(listenerFd); // nobody owns it yet
            }

            throw;
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
