using System.Net;
using System.Net.Sockets;

namespace IoModels.NonBlocking;

/// <summary>
/// The non-blocking model: one thread owns every socket, all in non-blocking mode, and sweeps them
/// over and over, asking each "anything for me?" — and nearly always hearing "would block".
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. Every socket (the listener and each connection) is non-blocking: a call that cannot be done
///    at once returns at once with "would block" (EAGAIN) instead of waiting. Here that answer is
///    an error code returned as a value (<see cref="SocketError.WouldBlock"/>), not an exception.
/// 2. So one thread can serve everyone: each sweep it tries to accept, then tries to receive from
///    and send to every connection. Phase 1 of a read (waiting for data) is now our job, done by
///    asking again and again; phase 2 (copying) still happens inside the receive call.
/// 3. The price: nobody tells the thread when something is ready, so it asks all the time. With no
///    <c>--poll-interval</c> it never sleeps and spins one core at 100% even when no client sends;
///    the would-block share of calls shows how much of that work was wasted. A sleep after an
///    empty sweep trades that CPU for up to one interval of extra latency per message.
/// 4. Every receive goes straight into the connection's bounded output buffer and is uppercased in
///    place; every send takes from its front. A send that takes only part keeps the rest for the
///    next sweep, and a connection whose buffer is full is not read until it drains: a client that
///    stops reading is held to the buffer (backpressure) and the kernel's windows do the rest.
/// 5. End of stream from a client: flush what is left, then shut our side down and close. A reset
///    closes at once. Idle connections are found during the sweep, because the sweep is the only
///    clock this model has. Stop is one more state of the same sweep: no accepting, no reading,
///    the pending echoes sent, then FIN (<see cref="EchoServerBase.DrainStep"/>).
/// 6. Accepting asks too: <see cref="NonBlockingAccept"/> returns "nobody waiting" as a value
///    (accept(2) on Unix) because the managed Accept would throw an exception on every sweep.
/// </remarks>
public sealed class NonBlockingEchoServer : EchoServerBase
{
    private readonly List<PolledConnection> _connections = [];
    private readonly ManualResetEventSlim _stopSignal = new(false);
    private long _nextIdleLook;
    private bool _idleLook; // this sweep also applies the idle rule (once a sweep period, not every spin)

    public NonBlockingEchoServer(EchoServerOptions options)
        : base("nonblocking", options)
    {
    }

    protected override void StartCore(Socket listener)
    {
        listener.Blocking = false;
        EchoLog.Note(Log, Model, Options.PollInterval == TimeSpan.Zero
            ? "one thread sweeps every socket and never waits, so it spins one core at 100% even when no client sends (a poll interval of 1 ms sleeps after an empty sweep instead)"
            : "one thread sweeps every socket and sleeps for the poll interval after a sweep that found nothing: less CPU, up to that much more latency per message");
        StartThread("nonblocking-engine", () => Run(listener));
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
                Statistics.Increment(EchoCounter.Sweeps);
                long now = Environment.TickCount64;
                bool didSomething = false;
                long wouldBlockBefore = Statistics[EchoCounter.WouldBlock];
                _idleLook = Idle.Enabled && now >= _nextIdleLook;
                if (_idleLook)
                {
                    _nextIdleLook = now + Idle.SweepMilliseconds;
                }

                // 1. Accept every client waiting in the backlog, until accept says "would block".
                if (now >= acceptPausedUntil && !Stopping)
                {
                    didSomething |= AcceptWaiting(listener, backoff, headroom, ref acceptPausedUntil);
                }

                // 2. Ask every connection. Walk backwards so a finished connection can be removed in place.
                for (int i = _connections.Count - 1; i >= 0; i--)
                {
                    PolledConnection connection = _connections[i];
                    didSomething |= Service(connection, now);
                    if (connection.Closed)
                    {
                        _connections[i] = _connections[^1];
                        _connections.RemoveAt(_connections.Count - 1);
                    }
                }

                Trace.Record(TraceEvent.SweepFinished, 0, _connections.Count, Statistics[EchoCounter.WouldBlock] - wouldBlockBefore);

                // 3. Nothing anywhere: spin straight into the next sweep, or sleep if asked to.
                if (!didSomething && Options.PollInterval > TimeSpan.Zero)
                {
                    _stopSignal.Wait(Options.PollInterval);
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
        }
    }

    /// <summary>Accepts until the backlog is empty. Returns true if anything was accepted.</summary>
    private bool AcceptWaiting(Socket listener, AcceptBackoff backoff, DescriptorHeadroom headroom, ref long pausedUntil)
    {
        bool accepted = false;
        while (!Stopping)
        {
            Statistics.Increment(EchoCounter.AcceptCalls);
            SocketError error = NonBlockingAccept.TryAccept(listener, headroom, out Socket? client); // nearly out of descriptors: TooManyOpenSockets
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.AcceptWouldBlock); // nobody is waiting: the usual answer
                return accepted;
            }

            if (error == SocketError.OperationAborted)
            {
                return accepted; // the listener is closed: the server is stopping
            }

            if (SocketErrors.IsResourceExhaustion(error))
            {
                // Out of descriptors: stop accepting for a while, but keep serving the connections we have.
                TimeSpan delay = backoff.Fail(Log, Model, Statistics, error);
                pausedUntil = Environment.TickCount64 + (long)delay.TotalMilliseconds;
                return accepted;
            }

            if (error != SocketError.Success)
            {
                EchoLog.AcceptFailed(Log, Model, new SocketErrorCode(error));
                if (SocketErrors.IsTransientAcceptFailure(error))
                {
                    continue; // that client died in the backlog; the next may be fine
                }

                return accepted; // something else: ask again next sweep rather than loop on it here
            }

            backoff.Succeeded();
            accepted = true;
            long id = Admit(client!);
            if (id != 0)
            {
                client!.Blocking = false;
                _connections.Add(new PolledConnection(client, id, RemoteOf(client), new OutputBuffer(Options.OutputBufferLimit, Statistics)));
            }
        }

        return accepted;
    }

    /// <summary>One receive and the sends it allows, for one connection. Returns true if any byte moved.</summary>
    private bool Service(PolledConnection connection, long now)
    {
        bool moved = false;

        // Receive only into free space: a full buffer means this client is not reading its echoes.
        // Stopping: nothing new is read; the drain step below ends the connection instead.
        if (!Stopping && !connection.ReceivedEnd && connection.Output.FreeSpace > 0)
        {
            Span<byte> target = connection.Output.GetWriteSpan();
            target = target[..Math.Min(target.Length, Options.BufferSize)];
            Statistics.Increment(EchoCounter.ReceiveCalls);
            int received = connection.Socket.Receive(target, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.WouldBlock); // asked too early: no data yet
                connection.Output.ReleaseIfEmpty();
            }
            else if (error != SocketError.Success)
            {
                Close(connection, CloseReason.Reset);
                return true;
            }
            else if (received == 0)
            {
                connection.ReceivedEnd = true; // the client shut down its sending side
                connection.Output.ReleaseIfEmpty();
                moved = true;
            }
            else
            {
                AsciiUpper.ToUpperInPlace(target[..received]);
                connection.Output.Commit(received);
                connection.BytesIn += received;
                Statistics.Add(EchoCounter.BytesIn, received);
                moved = true;
            }
        }

        // Send what is queued; the ring may hand it over in two pieces. Keep whatever the kernel did not take.
        while (!connection.Output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = connection.Output.GetReadSpan();
            Statistics.Increment(EchoCounter.SendCalls);
            int sent = connection.Socket.Send(pending, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                Statistics.Increment(EchoCounter.WouldBlock); // the client's window is full: try next sweep
                break;
            }

            if (error != SocketError.Success)
            {
                Close(connection, CloseReason.Reset);
                return true;
            }

            connection.Output.Consume(sent);
            connection.BytesOut += sent;
            Statistics.Add(EchoCounter.BytesOut, sent);
            moved = true;
            if (sent < pending.Length)
            {
                break; // a partial send: the kernel's buffer is full for now
            }
        }

        if (moved)
        {
            connection.LastActive = now;
        }

        if (Stopping)
        {
            moved |= DrainStep(connection) | connection.Closed;
        }
        else if (connection.ReceivedEnd && connection.Output.IsEmpty)
        {
            Close(connection, CloseReason.ClientClosed); // every echo is out: end our side too
        }
        else if (_idleLook)
        {
            CloseIfIdle(connection, now);
        }

        return moved;
    }

    // Only signals: the engine thread owns every socket. It sees Stopping and drains, then sees
    // Aborting, cuts what is left and ends. A set signal also ends the poll-interval sleep for good.
    protected override void BeginDrain() => _stopSignal.Set();

    protected override Task StopCoreAsync()
    {
        _stopSignal.Set();
        return Task.CompletedTask;
    }
}
