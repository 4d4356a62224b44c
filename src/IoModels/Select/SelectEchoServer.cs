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
    private long _nextIdleLook;
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
    }

    protected override void StartCore(Socket listener)
    {
        listener.Blocking = false; // readiness can be stale (the client may have gone): accept must not block
        StartThread("select-engine", () => Run(listener));
    }

    private void Run(Socket listener)
    {
        var backoff = new AcceptBackoff();
        var headroom = new DescriptorHeadroom(listener);
        long acceptPausedUntil = 0;
        try
        {
            while (!Aborting)
            {
                // 1. Build the lists again: Select left only the ready sockets in them last time.
                long now = Environment.TickCount64;
                _readList.Clear();
                _writeList.Clear();
                bool listening = now >= acceptPausedUntil && !Stopping;
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
                    else if (!connection.ReceivedEnd || Stopping)
                    {
                        _readList.Add(connection.Socket); // stopping: readable means input to discard, or the client's close
                    }
                }

                TimeSpan timeout = listening ? Options.SelectTimeout : TimeSpan.FromMilliseconds(Math.Max(1, acceptPausedUntil - now));
                timeout = timeout < Options.SelectTimeout ? timeout : Options.SelectTimeout;
                if (Idle.Enabled && !Stopping)
                {
                    timeout = TimeSpan.FromMilliseconds(Math.Clamp(_nextIdleLook - now, 1, (long)timeout.TotalMilliseconds)); // wake for the idle look
                }
                int scanned = _readList.Count + _writeList.Count;
                if (scanned == 0)
                {
                    _stopSignal.Wait(timeout); // nothing to watch (accepting is paused, no clients): just wait
                    continue;
                }

                // 2. Wait until something is ready. Every socket in both lists is checked, every time.
                Statistics.Increment(EchoCounter.Waits);
                Statistics.Add(EchoCounter.SocketsScanned, scanned);
                try
                {
                    Socket.Select(_readList, _writeList, null, timeout);
                }
                catch (ObjectDisposedException) when (Stopping)
                {
                    continue; // expected: stop closed the listener between building the list and the call; drain without it
                }

                int ready = _readList.Count + _writeList.Count;
                Statistics.Add(EchoCounter.ReadyEvents, ready);
                Trace.Record(TraceEvent.SelectReturned, 0, scanned, ready);
                if (ready == 0)
                {
                    Statistics.Increment(EchoCounter.WaitTimeouts);
                }

                if (Aborting)
                {
                    return; // the drain is over: the finally block cuts what is left
                }

                // 3. Serve only what is ready: new clients, data to read, room to write.
                now = Environment.TickCount64;
                foreach (Socket socket in _readList)
                {
                    if (socket == listener)
                    {
                        if (!Stopping)
                        {
                            AcceptWaiting(listener, backoff, headroom, ref acceptPausedUntil);
                        }
                    }
                    else
                    {
                        Receive(_connections[socket], now);
                    }
                }

                foreach (Socket socket in _writeList)
                {
                    Send(_connections[socket], now);
                }

                // 4. Let go of connections that ended, and of those silent for too long.
                ReapFinished(now);
            }
        }
        finally
        {
            foreach (PolledConnection connection in _connections.Values)
            {
                Close(connection, CloseReason.ServerStopping);
            }

            _connections.Clear();
        }
    }

    /// <summary>The listener was ready: accept until the backlog is empty.</summary>
    private void AcceptWaiting(Socket listener, AcceptBackoff backoff, DescriptorHeadroom headroom, ref long pausedUntil)
    {
        while (!Stopping)
        {
            Statistics.Increment(EchoCounter.AcceptCalls);
            SocketError error = NonBlockingAccept.TryAccept(listener, headroom, out Socket? client); // nearly out of descriptors: TooManyOpenSockets
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.AcceptWouldBlock);
                return;
            }

            if (error == SocketError.OperationAborted)
            {
                return; // the listener is closed: the server is stopping
            }

            if (SocketErrors.IsResourceExhaustion(error))
            {
                // Out of descriptors: leave the listener out of the read list for a while (else Select
                // would report it ready at once, forever), but keep serving the connections we have.
                TimeSpan delay = backoff.Fail(Log, Model, Statistics, error);
                pausedUntil = Environment.TickCount64 + (long)delay.TotalMilliseconds;
                return;
            }

            if (error != SocketError.Success)
            {
                EchoLog.AcceptFailed(Log, Model, new SocketErrorCode(error));
                if (SocketErrors.IsTransientAcceptFailure(error))
                {
                    continue;
                }

                return;
            }

            backoff.Succeeded();
            if (_connections.Count >= _maxSocketsPerList - 1)
            {
                RefuseListFull(client!);
                continue;
            }

            long id = Admit(client!);
            if (id != 0)
            {
                client!.Blocking = false;
                _connections[client] = new PolledConnection(client, id, RemoteOf(client), new OutputBuffer(Options.OutputBufferLimit, Statistics));
            }
        }
    }

    /// <summary>One more connection would not fit in Select's read list: refuse it as the connection limit would.</summary>
    private void RefuseListFull(Socket client)
    {
        if (!_listFullLogged)
        {
            _listFullLogged = true;
            EchoLog.Note(Log, Model, "Socket.Select takes at most 65,536 sockets per list (the listener and 65,535 connections); further clients are refused");
        }

        Refused(RemoteOf(client), _maxSocketsPerList - 1);
        SocketSetup.CloseQuietly(client);
    }

    /// <summary>The socket is readable: data, the client's end of stream, or an error is there.</summary>
    private void Receive(PolledConnection connection, long now)
    {
        if (Stopping)
        {
            DrainStep(connection); // stopping: nothing new is read for echoing
            return;
        }

        Span<byte> target = connection.Output.GetWriteSpan();
        target = target[..Math.Min(target.Length, Options.BufferSize)];
        Statistics.Increment(EchoCounter.ReceiveCalls);
        int received = connection.Socket.Receive(target, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            Statistics.Increment(EchoCounter.WouldBlock); // readiness was stale; Select will say again
            connection.Output.ReleaseIfEmpty();
            return;
        }

        if (error != SocketError.Success)
        {
            Close(connection, CloseReason.Reset);
            return;
        }

        connection.LastActive = now;
        if (received == 0)
        {
            connection.ReceivedEnd = true; // the client shut down its sending side; its echoes are already out
            connection.Output.ReleaseIfEmpty();
            return;
        }

        AsciiUpper.ToUpperInPlace(target[..received]);
        connection.Output.Commit(received);
        connection.BytesIn += received;
        Statistics.Add(EchoCounter.BytesIn, received);
    }

    /// <summary>The socket is writable: send what is queued, keeping whatever the kernel does not take.</summary>
    private void Send(PolledConnection connection, long now)
    {
        while (!connection.Output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = connection.Output.GetReadSpan();
            Statistics.Increment(EchoCounter.SendCalls);
            int sent = connection.Socket.Send(pending, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.WouldBlock);
                return;
            }

            if (error != SocketError.Success)
            {
                Close(connection, CloseReason.Reset);
                return;
            }

            connection.Output.Consume(sent);
            connection.BytesOut += sent;
            Statistics.Add(EchoCounter.BytesOut, sent);
            connection.LastActive = now;
            if (sent < pending.Length)
            {
                return; // partial send: wait for Select to say there is room again
            }
        }
    }

    /// <summary>Removes connections that ended; closes those whose client finished, and idle ones.</summary>
    private void ReapFinished(long now)
    {
        bool idleLook = Idle.Enabled && now >= _nextIdleLook;
        if (idleLook)
        {
            _nextIdleLook = now + Idle.SweepMilliseconds;
        }

        List<PolledConnection>? finished = null;
        foreach (PolledConnection connection in _connections.Values)
        {
            if (!connection.Closed)
            {
                if (Stopping)
                {
                    DrainStep(connection); // once its echoes are out: FIN, then discard until the client closes
                }
                else if (connection.ReceivedEnd && connection.Output.IsEmpty)
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
