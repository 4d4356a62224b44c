using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace IoModels.Signal;

/// <summary>
/// The signal-driven model: the kernel raises SIGIO when IO becomes possible on any of our sockets,
/// and one thread, woken by the signal, tries every socket because the signal does not say which.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. Every socket, the listener and each connection, is non-blocking and asks for SIGIO:
///    fcntl(F_SETOWN, our pid) names who gets the signal, and the O_ASYNC flag turns it on. The
///    kernel then raises SIGIO when a client connects, data arrives, send space frees up after a
///    send would have blocked, or the peer closes or resets.
/// 2. Phase 1 of a read, waiting for data, is done by the kernel while this thread sleeps; the
///    signal says it is over. Phase 2, the copy, is still our Receive, as in every readiness model.
/// 3. A plain SIGIO says "something is ready", never what or where: it carries no descriptor, and a
///    second SIGIO raised while the first is pending merges with it. So on every signal the thread
///    must try EVERY socket — accept until it would block, then receive and send on each connection
///    until they would block — as Stevens' signal-driven UDP server does with its one socket. With
///    one socket that is cheap; a TCP server has one per client, so each signal costs a scan of all
///    of them, and with one client talking among a hundred idle ones nearly every try is wasted
///    (sockets tried per signal, and the would-block share, show it). That is why this model is rare
///    for TCP servers (Stevens, UNP 25.4: "of little use" with a connected TCP socket). Linux can
///    name the socket: fcntl F_SETSIG with a real-time signal and an SA_SIGINFO handler delivers
///    si_fd and si_band, one queued signal per event, falling back to a plain SIGIO when the queue
///    overflows (the C10K-era "RT signals" servers; epoll replaced them). This engine cannot use
///    it: .NET's PosixSignalRegistration gives the handler the signal number, never the siginfo.
/// 4. Signal handlers may only make async-signal-safe calls. .NET's PosixSignalRegistration runs
///    our handler later, on a thread-pool thread, where all it does is count the signal and set an
///    event this thread waits on. It must mark the signal handled, or the runtime applies SIGIO's
///    default action, which ends the process. SIGIO is process-wide, so one registration passes
///    each signal to every running signal engine (<see cref="SigioDispatcher"/>). It also lands on
///    whichever thread the kernel picks: the runtime installs it with SA_RESTART, but waits such as
///    poll, select and epoll_wait are never restarted and return EINTR, so every wait loop in the
///    process must retry EINTR — one more reason servers avoid this model.
/// 5. No signal may fall between the last try and the next wait. The event is cleared when the
///    wait returns, BEFORE the sweep, so a signal that arrives during the sweep sets it again and
///    the next wait returns at once for another sweep; a signal cleared by that reset came from an
///    event the sweep that follows will see. A new connection may receive data before O_ASYNC is
///    set on it, with no signal for that data, so it is tried in the same sweep, right after accept.
/// 6. Backpressure: a connection receives only into its output buffer's free space; while that is
///    full it is not read. Its pending echo goes out when send space frees up, which the kernel
///    signals too (only after a send returned would-block, which is the only way output is left).
/// 7. The wait still has a timeout (<see cref="RecheckInterval"/>): idle connections must be timed
///    out and an accept back-off must end even when no signal comes, and it is a safety net should
///    some event go unsignalled. Wait timeouts counts how often it fired.
/// </remarks>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
public sealed class SignalEchoServer : EchoServerBase
{
    /// <summary>
    /// How long the thread waits for a signal before sweeping anyway. 250 ms: the signals, not this,
    /// drive the engine (point 5 loses none), so it only bounds how late an idle timeout or the end
    /// of an accept back-off is noticed and how long an unforeseen unsignalled event could stall a
    /// connection; four sweeps a second over idle connections cost little beside the sweeps the
    /// signals cause.
    /// </summary>
    internal static readonly TimeSpan DefaultRecheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Receives per connection per sweep. 8 buffers (128 KiB by default): a client that never pauses
    /// would otherwise keep the one thread on its connection while every other waits. A connection
    /// that used its share is marked, and the next sweep starts without waiting for a signal, since
    /// no new signal comes for data already there.
    /// </summary>
    internal const int MaxReceivesPerVisit = 8;

    private readonly ManualResetEventSlim _signalled = new(initialState: false);
    private readonly List<PolledConnection> _connections = []; // the engine thread's alone
    private long _nextIdleLook;
    private bool _idleLook; // this sweep also applies the idle rule (once a sweep period)
    private IDisposable? _subscription;

    public SignalEchoServer(EchoServerOptions options)
        : base("signal", options)
    {
    }

    /// <summary>The timeout of each wait for a signal; <see cref="Timeout.InfiniteTimeSpan"/> waits for signals only (tests).</summary>
    internal TimeSpan RecheckInterval { get; init; } = DefaultRecheckInterval;

    protected override void StartCore(Socket listener)
    {
        listener.Blocking = false;
        _subscription = SigioDispatcher.Subscribe(OnSignal); // first: a SIGIO with no handler ends the process
        try
        {
            Interop.Libc.EnableSigio(listener.SafeHandle);
            StartThread("signal-loop", () => Run(listener));
        }
        catch
        {
            _subscription.Dispose();
            throw;
        }
    }

    /// <summary>Runs on a thread-pool thread for every SIGIO in the process, whichever socket raised it.</summary>
    private void OnSignal()
    {
        Statistics.Increment(EchoCounter.Signals);
        _signalled.Set();
    }

    private void Run(Socket listener)
    {
        var backoff = new AcceptBackoff();
        var headroom = new DescriptorHeadroom(listener);
        long acceptResumesAt = 0; // Environment.TickCount64 before which accepting is backing off
        bool moreWork = false;
        try
        {
            while (!Aborting)
            {
                bool woken = false;
                if (!moreWork)
                {
                    // Sleep until a signal says something, somewhere, is ready (or the re-check is due).
                    Statistics.Increment(EchoCounter.Waits);
                    woken = _signalled.Wait(NextTimeout(acceptResumesAt));
                    if (!woken)
                    {
                        Statistics.Increment(EchoCounter.WaitTimeouts);
                    }
                }

                _signalled.Reset(); // before the sweep: a signal from now on sets it again (point 5)
                if (Aborting)
                {
                    break; // the drain is over: the finally block cuts what is left
                }

                // The signal did not say which socket: try them all, the listener first.
                Statistics.Increment(EchoCounter.Sweeps);
                long triedBefore = Statistics[EchoCounter.SocketsScanned], readyBefore = Statistics[EchoCounter.ReadyEvents];
                long now = Environment.TickCount64;
                _idleLook = Idle.Enabled && now >= _nextIdleLook;
                if (_idleLook)
                {
                    _nextIdleLook = now + Idle.SweepMilliseconds;
                }
                if (now >= acceptResumesAt && !Stopping)
                {
                    acceptResumesAt = AcceptUntilWouldBlock(listener, backoff, headroom, now);
                }

                moreWork = false;
                for (int i = 0; i < _connections.Count;)
                {
                    if (Visit(_connections[i], now, ref moreWork))
                    {
                        i++;
                    }
                    else
                    {
                        _connections[i] = _connections[^1]; // closed: fill its slot with the last one
                        _connections.RemoveAt(_connections.Count - 1);
                    }
                }

                if (woken)
                {
                    Trace.Record(TraceEvent.SignalArrived, 0,
                        Statistics[EchoCounter.SocketsScanned] - triedBefore, Statistics[EchoCounter.ReadyEvents] - readyBefore);
                }
            }
        }
        finally
        {
            foreach (PolledConnection connection in _connections)
            {
                Close(connection, CloseReason.ServerStopping);
            }

            _connections.Clear();
            _subscription?.Dispose();
        }
    }

    /// <summary>The wait's timeout: the re-check interval, shortened by the idle timeout and by an accept back-off.</summary>
    private TimeSpan NextTimeout(long acceptResumesAt)
    {
        TimeSpan timeout = RecheckInterval;
        if (Idle.Enabled)
        {
            TimeSpan period = Idle.SweepPeriod;
            timeout = timeout == Timeout.InfiniteTimeSpan || period < timeout ? period : timeout;
        }

        long backoffLeft = acceptResumesAt - Environment.TickCount64;
        if (backoffLeft > 0 && (timeout == Timeout.InfiniteTimeSpan || backoffLeft < timeout.TotalMilliseconds))
        {
            timeout = TimeSpan.FromMilliseconds(backoffLeft);
        }

        return timeout;
    }

    /// <summary>Accepts every waiting client; returns when accepting may resume (0: at once, later: backing off).</summary>
    private long AcceptUntilWouldBlock(Socket listener, AcceptBackoff backoff, DescriptorHeadroom headroom, long now)
    {
        Statistics.Increment(EchoCounter.SocketsScanned);
        while (true)
        {
            // .NET's Accept reports "would block" only by throwing, so ask first with a zero-timeout
            // poll: one system call, as the would-block accept would have been.
            if (!listener.Poll(0, SelectMode.SelectRead))
            {
                Statistics.Increment(EchoCounter.AcceptWouldBlock);
                return 0;
            }

            if (headroom.IsLow())
            {
                // Nearly out of descriptors: every signal is handled on a thread-pool thread, and the
                // runtime needs descriptors to start one, so leave clients queued, as on EMFILE.
                TimeSpan pause = backoff.Fail(Log, Model, Statistics, SocketError.TooManyOpenSockets);
                return Environment.TickCount64 + (long)Math.Ceiling(pause.TotalMilliseconds);
            }

            Statistics.Increment(EchoCounter.AcceptCalls);
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (SocketException exception) when (SocketErrors.IsResourceExhaustion(exception.SocketErrorCode))
            {
                TimeSpan delay = backoff.Fail(Log, Model, Statistics, exception.SocketErrorCode);
                return Environment.TickCount64 + (long)Math.Ceiling(delay.TotalMilliseconds);
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.WouldBlock)
            {
                // Expected, rarely: the client the poll saw reset and left the queue before accept.
                Statistics.Increment(EchoCounter.AcceptWouldBlock);
                return 0;
            }
            catch (SocketException exception) when (SocketErrors.IsTransientAcceptFailure(exception.SocketErrorCode))
            {
                EchoLog.AcceptFailed(Log, Model, new SocketErrorCode(exception.SocketErrorCode));
                continue;
            }

            backoff.Succeeded();
            long id = Admit(client);
            if (id == 0)
            {
                continue;
            }

            // Accepted sockets inherit neither O_NONBLOCK nor O_ASYNC nor the owner: set all three.
            client.Blocking = false;
            Interop.Libc.EnableSigio(client.SafeHandle);
            _connections.Add(new PolledConnection(client, id, RemoteOf(client), new OutputBuffer(Options.OutputBufferLimit, Statistics)) { LastActive = now });
        }
    }

    /// <summary>
    /// Tries one connection: send what is pending, then receive and echo until it would block (or
    /// its output buffer is full, or its share is used). Returns false when it was closed.
    /// </summary>
    private bool Visit(PolledConnection connection, long now, ref bool moreWork)
    {
        Statistics.Increment(EchoCounter.SocketsScanned);
        Socket socket = connection.Socket;
        long movedBefore = connection.BytesIn + connection.BytesOut;

        if (!TrySendPending(connection, out SocketError error))
        {
            return Drop(connection, Classify(error));
        }

        if (Stopping)
        {
            // Nothing new is read for echoing: once the echoes are out, FIN, then discard until the client closes.
            moreWork |= DrainStep(connection);
            return !connection.Closed;
        }

        for (int receives = 0; !connection.ReceivedEnd && !connection.Output.IsFull; receives++)
        {
            if (receives == MaxReceivesPerVisit)
            {
                moreWork = true; // data may be waiting, and no new signal will say so
                break;
            }

            Span<byte> space = connection.Output.GetWriteSpan();
            space = space[..Math.Min(space.Length, Options.BufferSize)];
            Statistics.Increment(EchoCounter.ReceiveCalls);
            int received = socket.Receive(space, SocketFlags.None, out error);
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.WouldBlock); // nothing here: the signal was for another socket, or already handled
                break;
            }

            if (error != SocketError.Success)
            {
                return Drop(connection, Classify(error));
            }

            if (received == 0)
            {
                connection.ReceivedEnd = true; // the client shut down its sending side
                break;
            }

            AsciiUpper.ToUpperInPlace(space[..received]);
            connection.Output.Commit(received);
            connection.BytesIn += received;
            Statistics.Add(EchoCounter.BytesIn, received);
            if (!TrySendPending(connection, out error))
            {
                return Drop(connection, Classify(error));
            }
        }

        // A receive that found nothing (or only the end of stream) rented the buffer for nothing:
        // give it back, so an idle connection holds none (as nonblocking and select do).
        connection.Output.ReleaseIfEmpty();
        if (connection.ReceivedEnd && connection.Output.IsEmpty)
        {
            return Drop(connection, CloseReason.ClientClosed); // every echo is out: shut our side down too, then close
        }

        if (connection.BytesIn + connection.BytesOut != movedBefore)
        {
            Statistics.Increment(EchoCounter.ReadyEvents); // this try found work: the signal was (also) for this socket
            connection.LastActive = now;
        }
        else if (_idleLook && CloseIfIdle(connection, now))
        {
            return false; // closed by the idle rule
        }

        return true;
    }

    /// <summary>
    /// Sends queued output until it is all sent or the send would block (then the kernel will signal
    /// when space frees up). False on a connection error, given in <paramref name="error"/>.
    /// </summary>
    private bool TrySendPending(PolledConnection connection, out SocketError error)
    {
        error = SocketError.Success;
        while (!connection.Output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = connection.Output.GetReadSpan();
            Statistics.Increment(EchoCounter.SendCalls);
            int sent = connection.Socket.Send(pending, SocketFlags.None, out error);
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.WouldBlock); // the client's window is full: keep the rest
                error = SocketError.Success;
                return true;
            }

            if (error != SocketError.Success)
            {
                return false;
            }

            connection.Output.Consume(sent); // a partial send leaves the rest queued, never lost
            connection.BytesOut += sent;
            Statistics.Add(EchoCounter.BytesOut, sent);
        }

        return true;
    }

    private CloseReason Classify(SocketError error) =>
        Stopping && SocketErrors.IsAborted(error) ? CloseReason.ServerStopping : CloseReason.Reset;

    /// <summary>Closes the connection (the base shuts our side down first after a client's end of stream) and says "drop it from the list".</summary>
    private bool Drop(PolledConnection connection, CloseReason reason)
    {
        Close(connection, reason); // closing the socket also takes it off the SIGIO list
        return false;
    }

    // The listener is closed; wake the thread so it drains (Stopping), and later so it cuts what is
    // left and ends (Aborting). It owns every socket, so these are only signals.
    protected override void BeginDrain() => _signalled.Set();

    protected override Task StopCoreAsync()
    {
        _signalled.Set();
        return Task.CompletedTask;
    }
}
