using System.Net;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespace", Target = "~N:IoModels.Select",
    Justification = "The folder and namespace are named after the model, select, like every other engine; VB callers are not expected.")]

namespace IoModels.Select;

/// <summary>
/// The multiplexing model with <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, TimeSpan)"/>:
/// one thread hands the kernel every socket it cares about, sleeps until at least one is ready
/// (or the timeout passes), then serves only the ready ones.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. One thread, one wait for many sockets: unlike the non-blocking sweep, the thread sleeps in
///    the kernel while nothing is ready, so an idle server uses no CPU. Phase 1 of a read (waiting)
///    is the Select call; phase 2 (copying) is the receive that follows it.
/// 2. The cost is in the lists. Before every call the thread builds them again: the listener and
///    every connection that can take more input in the read list, every connection with echoes
///    waiting in the write list. The kernel checks every socket passed in, every call, even if one is
///    ready, and hooks a wait-queue entry onto each that it unhooks again before returning (the
///    notes' "select keeps polling" is this, not a spin); the statistics show sockets scanned per
///    wait against ready per wait.
/// 3. Select filters the lists in place: what is left afterwards is what is ready. That is why
///    they are rebuilt each time rather than kept.
/// 4. A connection is in one list at a time: the write list while it has echoes to send, else the
///    read list. Reading waits until its echoes are out (so a client that stops reading is held to
///    its bounded buffer: backpressure), and the lists never hold more entries than open sockets.
/// 5. The sockets are non-blocking all the same: readiness is a hint, and a send must take only
///    what fits, keeping the rest, rather than block the one thread every client depends on.
/// 6. What Socket.Select really is: on Linux .NET implements it with poll(2), not select(2)
///    (SocketPal.Unix.cs, SelectViaPoll; seen with strace: poll([...], n, ms)). So FD_SETSIZE (1,024)
///    does not apply and descriptor numbers above 1,024 work. The limits that do apply: each list
///    takes at most 65,536 sockets (ArgumentOutOfRangeException beyond), poll fails with EINVAL when
///    the entries outnumber the process's descriptor limit (RLIMIT_NOFILE; one list per connection
///    keeps us under it), and the timeout is in whole milliseconds (below 1 ms it does not wait at
///    all). On macOS (and iOS, tvOS, Mac Catalyst) .NET 10 calls select(2) instead
///    (SocketPal.SelectOverPollIsBroken chooses SelectViaSelect), where FD_SETSIZE may limit it;
///    that path was not tried here.
/// </remarks>
public sealed class SelectEchoServer : EchoServerBase
{
    /// <summary>
    /// The most sockets <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
    /// accepts in one list (it throws beyond). The read list holds the listener plus connections,
    /// so one fewer connections than this can be served; extra clients are refused.
    /// </summary>
    internal const int MaxSocketsPerList = 65_536;

    /// <summary>
    /// What Socket.Select calls on this OS, for <c>iomodels models</c>: poll(2) on Linux and the other
    /// Unixes, select(2) on Apple's (SocketPal.SelectOverPollIsBroken), not looked into on Windows.
    /// </summary>
    public static string? Mechanism =>
        OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsMacCatalyst() ? "select(2)"
        : OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD() ? "poll(2)"
        : null;

    private readonly Dictionary<Socket, PolledConnection> _connections = [];
    private readonly List<Socket> _readList = [];
    private readonly List<Socket> _writeList = [];
    private readonly ManualResetEventSlim _stopSignal = new(false);
    private readonly LocalCounters _counters = new();
    private readonly Action<PolledConnection> _adopt;
    private readonly int _maxSocketsPerList;
    private bool _listFullLogged;

    public SelectEchoServer(EchoServerOptions options)
        : this(options, MaxSocketsPerList)
    {
    }

    /// <summary>For tests: a smaller list bound, to see the refusal without 65,536 sockets.</summary>
    internal SelectEchoServer(EchoServerOptions options, int maxSocketsPerList)
        : base("select", options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSocketsPerList, 2);
        _maxSocketsPerList = maxSocketsPerList;
        _adopt = connection => _connections[connection.Socket] = connection;
    }

    /// <summary>The read list holds the listener and the connections, so one fewer connections than a list takes.</summary>
    protected override int ConnectionLimit => Math.Min(Options.MaxConnections, _maxSocketsPerList - 1);

    protected override void OnLimitReached()
    {
        if (!_listFullLogged && Options.MaxConnections > _maxSocketsPerList - 1)
        {
            _listFullLogged = true; // once: the refusal lines themselves are already rate-limited
            EchoLog.Note(Log, Model, "Socket.Select takes at most 65,536 sockets per list (the listener and 65,535 connections); further clients are refused");
        }
    }

    protected override void StartCore(Socket listener)
    {
        listener.Blocking = false; // readiness can be stale (the client may have gone): accept must not block
        StartThread("select-engine", () => Run(listener));
    }

    private void Run(Socket listener)
    {
        AcceptPolicy acceptPolicy = CreateAcceptPolicy(listener);
        long acceptResumesAt = 0;
        long nextIdleLook = 0;
        try
        {
            while (!Aborting)
            {
                // 1. Build the lists again: Select left only the ready sockets in them last time.
                long now = Environment.TickCount64;
                bool listening = now >= acceptResumesAt && !Stopping;
                BuildLists(listener, listening);
                int scanned = _readList.Count + _writeList.Count;
                TimeSpan timeout = WaitTimeout(now, listening ? now : acceptResumesAt, nextIdleLook);
                if (scanned == 0)
                {
                    _stopSignal.Wait(timeout); // nothing to watch (accepting is paused, no clients): just wait
                    continue;
                }

                // 2. Wait until something is ready. Every socket in both lists is checked, every time.
                _counters.Increment(EchoCounter.Waits);
                _counters.Add(EchoCounter.SocketsScanned, scanned);
                try
                {
                    Socket.Select(_readList, _writeList, null, timeout);
                }
                catch (ObjectDisposedException) when (Stopping)
                {
                    continue; // expected: stop closed the listener between building the list and the call; drain without it
                }

                int ready = _readList.Count + _writeList.Count;
                _counters.Add(EchoCounter.ReadyEvents, ready);
                _counters.Add(EchoCounter.WaitTimeouts, ready == 0 ? 1 : 0);
                Trace.Record(TraceEvent.SelectReturned, 0, scanned, ready);
                if (Aborting)
                {
                    return; // the drain is over: the finally block cuts what is left
                }

                // 3. Serve only what is ready: new clients, data to read, room to write.
                now = Environment.TickCount64;
                foreach (Socket socket in _readList)
                {
                    if (socket != listener)
                    {
                        Readable(_connections[socket], now);
                    }
                    else if (!Stopping)
                    {
                        acceptResumesAt = AcceptPending(listener, acceptPolicy, now, _adopt, out _);
                    }
                }

                foreach (Socket socket in _writeList)
                {
                    SendPending(_connections[socket], _counters, now); // an error closes it; the reap below lets it go
                }

                // 4. Let go of connections that ended, and of those silent for too long.
                bool idleLook = Idle.Enabled && now >= nextIdleLook;
                nextIdleLook = idleLook ? now + Idle.SweepMilliseconds : nextIdleLook;
                ReapFinished(now, idleLook);
                _counters.FlushTo(Statistics);
            }
        }
        finally
        {
            foreach (PolledConnection connection in _connections.Values)
            {
                Close(connection, CloseReason.ServerStopping);
            }

            _connections.Clear();
            _counters.FlushTo(Statistics);
        }
    }

    /// <summary>
    /// The listener (unless accepting is paused), every connection with output queued in the write
    /// list, and every other one still sending to us in the read list: each socket in one list only.
    /// </summary>
    private void BuildLists(Socket listener, bool listening)
    {
        _readList.Clear();
        _writeList.Clear();
        if (listening)
        {
            _readList.Add(listener);
        }

        foreach (PolledConnection connection in _connections.Values)
        {
            if (!connection.Output.IsEmpty)
            {
                _writeList.Add(connection.Socket);
            }
            else if (!connection.PeerClosed || Stopping)
            {
                _readList.Add(connection.Socket); // stopping: readable means input to discard, or the client's close
            }
        }
    }

    /// <summary>The select timeout, cut short for the end of an accept back-off and for the next idle look.</summary>
    private TimeSpan WaitTimeout(long now, long acceptResumesAt, long nextIdleLook)
    {
        long milliseconds = (long)Options.SelectTimeout.TotalMilliseconds;
        if (acceptResumesAt > now)
        {
            milliseconds = Math.Min(milliseconds, Math.Max(1, acceptResumesAt - now));
        }

        if (Idle.Enabled && !Stopping && milliseconds >= 1)
        {
            milliseconds = Math.Clamp(nextIdleLook - now, 1, milliseconds); // wake for the idle look
        }

        return milliseconds == (long)Options.SelectTimeout.TotalMilliseconds ? Options.SelectTimeout : TimeSpan.FromMilliseconds(milliseconds);
    }

    /// <summary>The socket is readable: data, the client's end of stream, or an error is there.</summary>
    private void Readable(PolledConnection connection, long now)
    {
        if (Stopping)
        {
            DrainStep(connection, _counters); // stopping: nothing new is read for echoing
            return;
        }

        ReceiveSome(connection, _counters, now); // stale readiness is a would-block; Select will say again
    }

    /// <summary>Removes connections that ended; closes those whose client finished, and idle ones.</summary>
    private void ReapFinished(long now, bool idleLook)
    {
        List<PolledConnection>? finished = null;
        foreach (PolledConnection connection in _connections.Values)
        {
            if (!connection.Closed)
            {
                if (Stopping)
                {
                    DrainStep(connection, _counters); // once its echoes are out: FIN, then discard until the client closes
                }
                else if (connection.PeerClosed && connection.Output.IsEmpty)
                {
                    Close(connection, CloseReason.ClientClosed);
                }
                else if (idleLook)
                {
                    CloseIfIdle(connection, now);
                }
            }

            if (connection.Closed)
            {
                (finished ??= []).Add(connection);
            }
        }

        if (finished is not null)
        {
            foreach (PolledConnection connection in finished)
            {
                _connections.Remove(connection.Socket);
            }
        }
    }

    // Only signals: the engine thread owns every socket. A Select in progress returns within its
    // timeout; the thread then drains (Stopping), and later cuts what is left and ends (Aborting).
    protected override void BeginDrain() => _stopSignal.Set();

    protected override Task StopCoreAsync()
    {
        _stopSignal.Set();
        return Task.CompletedTask;
    }
}
