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
/// The steps the polling engines share (accept, receive, send, close, idle) are in
/// EchoServerBase.Polled.cs; this file is the sweep.
/// </remarks>
public sealed class NonBlockingEchoServer : EchoServerBase
{
    private readonly List<PolledConnection> _connections = [];
    private readonly ManualResetEventSlim _stopSignal = new(false);
    private readonly LocalCounters _counters = new();
    private readonly Action<PolledConnection> _adopt;

    public NonBlockingEchoServer(EchoServerOptions options)
        : base("nonblocking", options)
    {
        _adopt = _connections.Add;
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
        AcceptPolicy acceptPolicy = CreateAcceptPolicy(listener, passCounters: _counters); // it asks on every sweep
        long acceptResumesAt = 0;
        long nextIdleLook = 0;
        try
        {
            while (!Aborting)
            {
                _counters.Increment(EchoCounter.Sweeps);
                long now = Environment.TickCount64;
                bool idleLook = Idle.Enabled && now >= nextIdleLook;
                if (idleLook)
                {
                    nextIdleLook = now + Idle.SweepMilliseconds;
                }

                // 1. Accept every client waiting in the backlog, until accept says "would block".
                bool didSomething = false;
                if (now >= acceptResumesAt && !Stopping)
                {
                    acceptResumesAt = AcceptPending(listener, acceptPolicy, now, _adopt, out didSomething);
                }

                // 2. Ask every connection. Walk backwards so a finished connection can be removed in place.
                long wouldBlockBefore = _counters[EchoCounter.WouldBlock];
                for (int i = _connections.Count - 1; i >= 0; i--)
                {
                    PolledConnection connection = _connections[i];
                    didSomething |= Service(connection, now, idleLook);
                    if (connection.Closed)
                    {
                        _connections[i] = _connections[^1];
                        _connections.RemoveAt(_connections.Count - 1);
                    }
                }

                Trace.Record(TraceEvent.SweepFinished, 0, _connections.Count, _counters[EchoCounter.WouldBlock] - wouldBlockBefore);
                _counters.FlushTo(Statistics);

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
            _counters.FlushTo(Statistics);
        }
    }

    /// <summary>One receive and the sends it allows, for one connection. Returns true if any byte moved.</summary>
    private bool Service(PolledConnection connection, long now, bool idleLook)
    {
        long movedBefore = connection.BytesIn + connection.BytesOut;

        // Receive only into free space: a full buffer means this client is not reading its echoes.
        // Stopping: nothing new is read; the drain step below ends the connection instead.
        bool ended = false;
        if (!Stopping && !connection.PeerClosed && connection.Output.FreeSpace > 0)
        {
            ReceiveOutcome outcome = ReceiveSome(connection, _counters, now);
            if (outcome == ReceiveOutcome.Closed)
            {
                return true;
            }

            ended = outcome == ReceiveOutcome.Ended;
        }

        // Send what is queued, keeping whatever the kernel did not take for the next sweep.
        if (!SendPending(connection, _counters, now))
        {
            return true;
        }

        bool moved = ended || connection.BytesIn + connection.BytesOut != movedBefore;
        if (Stopping)
        {
            moved |= DrainStep(connection, _counters) | connection.Closed;
        }
        else if (connection.PeerClosed && connection.Output.IsEmpty)
        {
            Close(connection, CloseReason.ClientClosed); // every echo is out: end our side too
        }
        else if (idleLook && !moved)
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
