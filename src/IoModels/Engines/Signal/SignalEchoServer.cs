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
///    (sockets tried per sweep, and the would-block share, show it). That is why this model is rare
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
    private readonly LocalCounters _counters = new();
    private readonly Action<PolledConnection> _adopt;
    private IDisposable? _subscription;

    public SignalEchoServer(EchoServerOptions options)
        : base("signal", options)
    {
        _adopt = Adopt;
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
        AcceptPolicy acceptPolicy = CreateAcceptPolicy(listener); // probes every time: signals are handled on pool threads, which need descriptors
        long acceptResumesAt = 0; // Environment.TickCount64 before which accepting is backing off
        long nextIdleLook = 0;
        bool moreWork = false;
        try
        {
            while (!Aborting)
            {
                bool woken = false;
                if (!moreWork)
                {
                    // Sleep until a signal says something, somewhere, is ready (or the re-check is due).
                    _counters.Increment(EchoCounter.Waits);
                    woken = _signalled.Wait(NextTimeout(acceptResumesAt, nextIdleLook));
                    _counters.Add(EchoCounter.WaitTimeouts, woken ? 0 : 1);
                }

                _signalled.Reset(); // before the sweep: a signal from now on sets it again (point 5)
                if (Aborting)
                {
                    break; // the drain is over: the finally block cuts what is left
                }

                // The signal did not say which socket: try them all, the listener first.
                _counters.Increment(EchoCounter.Sweeps);
                long triedBefore = _counters[EchoCounter.SocketsScanned], readyBefore = _counters[EchoCounter.ReadyEvents];
                long now = Environment.TickCount64;
                bool idleLook = Idle.Enabled && now >= nextIdleLook;
                nextIdleLook = idleLook ? now + Idle.SweepMilliseconds : nextIdleLook;
                if (now >= acceptResumesAt && !Stopping)
                {
                    _counters.Increment(EchoCounter.SocketsScanned);
                    acceptResumesAt = AcceptPending(listener, acceptPolicy, now, _adopt, out _);
                }

                moreWork = false;
                for (int i = 0; i < _connections.Count;)
                {
                    if (Visit(_connections[i], now, idleLook, ref moreWork))
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
                        _counters[EchoCounter.SocketsScanned] - triedBefore, _counters[EchoCounter.ReadyEvents] - readyBefore);
                }

                _counters.FlushTo(Statistics);
            }
        }
        finally
        {
            foreach (PolledConnection connection in _connections)
            {
                Close(connection, CloseReason.ServerStopping);
            }

            _connections.Clear();
            _counters.FlushTo(Statistics);
            _subscription?.Dispose();
        }
    }

    /// <summary>The wait's timeout: the re-check interval, shortened by the idle look and by an accept back-off.</summary>
    private TimeSpan NextTimeout(long acceptResumesAt, long nextIdleLook)
    {
        TimeSpan timeout = RecheckInterval;
        long now = Environment.TickCount64;
        foreach (long due in (ReadOnlySpan<long>)[Idle.Enabled ? nextIdleLook : long.MaxValue, acceptResumesAt])
        {
            long left = due - now;
            if (due != long.MaxValue && left > 0 && (timeout == Timeout.InfiniteTimeSpan || left < timeout.TotalMilliseconds))
            {
                timeout = TimeSpan.FromMilliseconds(left);
            }
        }

        return timeout;
    }

    /// <summary>
    /// A new connection: accepted sockets inherit neither O_ASYNC nor the owner, so SIGIO is enabled
    /// on it here. Data may have arrived before that, with no signal for it: the sweep that accepted
    /// it tries it at once.
    /// </summary>
    private void Adopt(PolledConnection connection)
    {
        Interop.Libc.EnableSigio(connection.Socket.SafeHandle);
        _connections.Add(connection);
    }

    /// <summary>
    /// Tries one connection: send what is pending, then receive and echo until it would block (or
    /// its output buffer is full, or its share is used). Returns false when it was closed.
    /// </summary>
    private bool Visit(PolledConnection connection, long now, bool idleLook, ref bool moreWork)
    {
        _counters.Increment(EchoCounter.SocketsScanned);
        long movedBefore = connection.BytesIn + connection.BytesOut;
        if (!SendPending(connection, _counters, now))
        {
            return false;
        }

        if (Stopping)
        {
            // Nothing new is read for echoing: once the echoes are out, FIN, then discard until the client closes.
            moreWork |= DrainStep(connection, _counters);
            return !connection.Closed;
        }

        for (int receives = 0; !connection.PeerClosed && !connection.Output.IsFull; receives++)
        {
            if (receives == MaxReceivesPerVisit)
            {
                moreWork = true; // data may be waiting, and no new signal will say so
                break;
            }

            ReceiveOutcome outcome = ReceiveSome(connection, _counters, now);
            if (outcome == ReceiveOutcome.Closed || (outcome == ReceiveOutcome.Received && !SendPending(connection, _counters, now)))
            {
                return false;
            }

            if (outcome != ReceiveOutcome.Received)
            {
                break; // would block (the signal was for another socket, or already handled), or the end of stream
            }
        }

        if (connection.PeerClosed && connection.Output.IsEmpty)
        {
            Close(connection, CloseReason.ClientClosed); // every echo is out: shut our side down too, then close
            return false;
        }

        if (connection.BytesIn + connection.BytesOut != movedBefore)
        {
            _counters.Increment(EchoCounter.ReadyEvents); // this try found work: the signal was (also) for this socket
        }
        else if (idleLook && CloseIfIdle(connection, now))
        {
            return false; // closed by the idle rule
        }

        return true;
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
