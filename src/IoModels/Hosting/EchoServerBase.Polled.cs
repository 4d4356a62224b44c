using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// The steps the three engines whose one thread asks every socket in turn share (nonblocking,
/// select, signal): accept what waits, receive into a connection's output buffer, send from it,
/// close, and the idle rule. What differs between them, how the thread learns that it is worth
/// asking, stays in each engine's file.
/// </summary>
public abstract partial class EchoServerBase
{
    /// <summary>
    /// Accepts every client waiting on the non-blocking <paramref name="listener"/> until it would
    /// block, under <paramref name="policy"/>; each admitted client becomes a non-blocking
    /// <see cref="PolledConnection"/> handed to <paramref name="adopt"/>. Returns when accepting may
    /// resume: at once (0), or later while backing off. <paramref name="accepted"/> is whether anyone was taken.
    /// </summary>
    protected long AcceptPending(Socket listener, AcceptPolicy policy, long now, Action<PolledConnection> adopt, out bool accepted)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(adopt);
        accepted = false;
        while (!Stopping)
        {
            AcceptDecision decision = policy.BeforeAccept();
            if (decision.Step == AcceptStep.Done)
            {
                SocketError error = NonBlockingAccept.TryAccept(listener, out Socket? client);
                if (error == SocketError.Success)
                {
                    policy.Accepted();
                    accepted = true;
                    if (Admit(client!) is long id and not 0)
                    {
                        client!.Blocking = false;
                        var connection = new PolledConnection(client, id, RemoteOf(client), new OutputBuffer(Options.OutputBufferLimit, Statistics)) { LastActive = now };
                        Track(connection);
                        adopt(connection);
                    }

                    continue;
                }

                decision = policy.Failed(error);
            }

            switch (decision.Step)
            {
                case AcceptStep.Retry or AcceptStep.Skip:
                    continue;
                case AcceptStep.Pause:
                    return decision.ResumeAt(Environment.TickCount64); // keep serving the connections we have meanwhile
                default:
                    return 0; // Done: nobody waits; Stop: the listener is closed
            }
        }

        return 0;
    }

    /// <summary>
    /// One non-blocking receive into the free space of the connection's output buffer (at most
    /// <see cref="EchoServerOptions.BufferSize"/>), uppercased in place. Sets
    /// <see cref="Connection.PeerClosed"/> at the client's end of stream; closes the connection on an error.
    /// </summary>
    protected ReceiveOutcome ReceiveSome(PolledConnection connection, LocalCounters counters, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(counters);
        Span<byte> target = connection.Output.GetWriteSpan();
        target = target[..Math.Min(target.Length, Options.BufferSize)];
        counters.Increment(EchoCounter.ReceiveCalls);
        int received = connection.Socket.Receive(target, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            counters.Increment(EchoCounter.WouldBlock); // asked too early, or readiness was stale
            connection.Output.ReleaseIfEmpty(); // an idle connection holds no buffer
            return ReceiveOutcome.WouldBlock;
        }

        if (error != SocketError.Success)
        {
            Close(connection, CloseReasonFor(error, "recv"));
            return ReceiveOutcome.Closed;
        }

        connection.LastActive = now;
        if (received == 0)
        {
            connection.PeerClosed = true; // the client shut down its sending side
            connection.Output.ReleaseIfEmpty();
            return ReceiveOutcome.Ended;
        }

        AsciiUpper.ToUpperInPlace(target[..received]);
        connection.Output.Commit(received);
        connection.Received(received);
        counters.Add(EchoCounter.BytesIn, received);
        return ReceiveOutcome.Received;
    }

    /// <summary>
    /// Sends what the connection's output buffer holds until it is empty or the kernel's send buffer
    /// is full; what the kernel does not take stays queued, in order. Returns false if an error closed the connection.
    /// </summary>
    protected bool SendPending(PolledConnection connection, LocalCounters counters, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(counters);
        OutputBuffer output = connection.Output;
        while (!output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = output.GetReadSpan(); // the ring may hand its bytes over in two pieces
            counters.Increment(EchoCounter.SendCalls);
            int sent = connection.Socket.Send(pending, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                counters.Increment(EchoCounter.WouldBlock); // the client's window is full: the rest waits
                return true;
            }

            if (error != SocketError.Success)
            {
                Close(connection, CloseReasonFor(error, "send"));
                return false;
            }

            output.Consume(sent);
            connection.Sent(sent);
            counters.Add(EchoCounter.BytesOut, sent);
            connection.LastActive = now;
            if (sent < pending.Length)
            {
                return true; // a partial send: the kernel's buffer is full for now
            }
        }

        return true;
    }

    /// <summary>
    /// Ends a <see cref="PolledConnection"/> exactly once: after the client's end of stream our side
    /// is shut down too (every echo was sent), otherwise the socket is just closed, or reset where the
    /// reason says so; then counted out.
    /// </summary>
    protected void Close(PolledConnection connection, CloseReason reason)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Closed)
        {
            return;
        }

        connection.Closed = true;
        if (reason == CloseReason.ClientClosed && !connection.SendShut)
        {
            try
            {
                connection.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException exception) when (SocketErrors.IsConnectionLost(exception))
            {
                reason = CloseReason.Reset; // the client reset after its end of stream
            }
        }

        long unechoed = connection.Output.Count;
        connection.Output.Dispose();
        if (reason is CloseReason.ServerStopping or CloseReason.IdleStalled)
        {
            SocketSetup.Abort(connection.Socket); // a reset, not a FIN after echoes nobody will read
        }
        else
        {
            SocketSetup.CloseQuietly(connection.Socket); // for the signal engine this also ends SIGIO for it
        }

        Closed(connection, reason, unechoed);
    }

    /// <summary>
    /// Applies <see cref="Idle"/> to a polled connection at one sweep: closes it, with FIN or a reset as
    /// the rule decides, and returns true if it was idle.
    /// </summary>
    protected bool CloseIfIdle(PolledConnection connection, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);
        int sample = connection.UnsentSample;
        IdleVerdict verdict = Idle.Check(connection.LastActive, now, connection.Socket, !connection.Output.IsEmpty, ref sample);
        connection.UnsentSample = sample;
        switch (verdict)
        {
            case IdleVerdict.Moved:
                connection.LastActive = now;
                return false;
            case IdleVerdict.Silent or IdleVerdict.Stalled:
                Close(connection, IdleRule.CloseReasonOf(verdict));
                return true;
            default:
                return false;
        }
    }
}
