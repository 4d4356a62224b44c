using System.Net;
using System.Net.Sockets;

namespace IoModels.Blocking;

/// <summary>
/// The blocking model: one thread per connection (or a fixed pool of threads), each blocked in
/// Receive until data arrives and in Send until the kernel takes the reply.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. Every socket is in blocking mode (the default). A call returns only when it is done: Accept when
///    a client connected, Receive when data arrived AND was copied into our buffer (both phases of a
///    read happen inside the one call), Send when the kernel took every byte.
/// 2. A thread blocked in Receive can do nothing else, so each connection needs its own thread. The
///    cost is visible in the statistics: threads grow one for one with clients.
/// 3. With <c>--workers N</c> the threads are a fixed pool: N threads each loop "accept one client,
///    serve it until it leaves". Client N+1 waits in the kernel's accept queue until a worker is free,
///    which is the limit of a thread pool the notes describe.
/// 4. Backpressure is free here: if a client stops reading, Send blocks, so this thread stops
///    receiving, and at most one buffer of that client's bytes is held.
/// 5. Every call here is synchronous. An async call on one of these sockets would switch it to
///    non-blocking mode underneath and the model would no longer be what it claims.
/// 6. Stop drains: a thread blocked in Receive holds no echo, so stop shuts its sending side down
///    (FIN) from outside; a thread that is sending finishes its echo and shuts down itself. Either
///    way the thread then reads and discards until the client closes (FlowConnection's
///    TryShut decides which of the two does it, exactly once).
/// </remarks>
public sealed partial class BlockingEchoServer : EchoServerBase
{
    /// <summary>
    /// Stack reserved per connection thread. The default (8 MiB on Linux) is only reserved, not
    /// committed, but 256 KiB keeps thousands of threads cheap in address space, and the serve
    /// loop below needs a few hundred bytes of stack.
    /// </summary>
    private const int ConnectionThreadStackSize = 256 * 1024;

    public BlockingEchoServer(EchoServerOptions options)
        : base("blocking", options)
    {
    }

    protected override void StartCore(Socket listener)
    {
        if (Options.Workers > 0)
        {
            for (int i = 0; i < Options.Workers; i++)
            {
                StartThread($"blocking-worker-{i}", () => AcceptLoop(listener, serveOnThisThread: true));
            }
        }
        else
        {
            StartThread("blocking-acceptor", () => AcceptLoop(listener, serveOnThisThread: false));
        }
    }

    private void AcceptLoop(Socket listener, bool serveOnThisThread)
    {
        AcceptPolicy acceptPolicy = CreateAcceptPolicy(listener); // one per accepting thread: each backs off on its own
        while (!Stopping)
        {
            if (AcceptOne(listener, acceptPolicy) is not { } client)
            {
                continue; // paused, skipped, or stopping (then the loop ends)
            }

            long id = Admit(client);
            if (id == 0)
            {
                continue;
            }

            if (serveOnThisThread)
            {
                Serve(client, id); // a pool worker serves this client to the end before accepting another
            }
            else
            {
                try
                {
                    StartThread($"blocking-connection-{id}", () => Serve(client, id), ConnectionThreadStackSize);
                }
                catch (OutOfMemoryException)
                {
                    // Expected when the OS will not give us one more thread (threads or memory exhausted):
                    // this is the model's limit showing. Drop this client and wait before accepting more.
                    EndPoint? remote = RemoteOf(client);
                    SocketSetup.CloseQuietly(client);
                    Closed(id, remote, 0, 0, CloseReason.Reset);
                    Thread.Sleep(acceptPolicy.Exhausted(SocketError.NoBufferSpaceAvailable).Delay);
                }
            }
        }
    }

    /// <summary>Blocks in accept under the shared policy; null when nobody was taken (after a pause it asked for, or while stopping).</summary>
    private Socket? AcceptOne(Socket listener, AcceptPolicy policy)
    {
        AcceptDecision decision = policy.BeforeAccept(); // nearly out of descriptors: a new thread needs some
        if (decision.Step == AcceptStep.Done)
        {
            Trace.Record(TraceEvent.AcceptWaiting);
            try
            {
                Socket client = listener.Accept(); // blocks until a client has connected
                policy.Accepted();
                return client;
            }
            catch (SocketException exception)
            {
                decision = policy.Failed(exception.SocketErrorCode);
            }
            catch (ObjectDisposedException) when (Stopping)
            {
                return null; // expected: stop closed the listener under the blocked call
            }
        }

        if (decision.Step == AcceptStep.Pause)
        {
            Thread.Sleep(decision.Delay); // the clients stay queued in the kernel until descriptors or threads free up
        }

        return null;
    }

    private void Serve(Socket client, long id)
    {
        if (Idle.Enabled)
        {
            // A blocked call gives up after one idle sweep period, so the thread can apply the idle
            // rule and, if the connection is not idle, call again. Set before the connection is listed.
            client.ReceiveTimeout = client.SendTimeout = (int)Idle.SweepMilliseconds;
        }

        EndPoint? remote = RemoteOf(client);
        var listed = new FlowConnection(id, remote, client);
        Track(listed);
        byte[] buffer = new byte[Options.BufferSize];
        long unsent = 0;
        CloseReason reason = CloseReason.ServerStopping;
        try
        {
            while (true)
            {
                if (listed.ShutForStop(Stopping))
                {
                    reason = Discard(client, buffer);
                    break;
                }

                // Phase 1 and 2 of a read, both inside this one call: wait for data, copy it to buffer.
                Statistics.Increment(EchoCounter.ReceiveCalls);
                Trace.Record(TraceEvent.ReceiveWaiting, id);
                int received = client.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
                Trace.Record(TraceEvent.ReceiveReturned, id, received);
                if (error is SocketError.TimedOut or SocketError.WouldBlock && Idle.Enabled)
                {
                    if (!Stopping && IdleLook(listed, echoPending: false) is { } idle)
                    {
                        reason = idle;
                        break;
                    }

                    continue; // not idle, or stopping (the top of the loop drains: the drain deadline applies, not the idle rule)
                }

                if (error != SocketError.Success)
                {
                    reason = Classify(error);
                    break;
                }

                listed.Touch();

                if (received == 0)
                {
                    // The client shut down its sending side and every echo has been sent: close our side too.
                    reason = listed.IsShut ? CloseReason.Drained : CloseReason.ClientClosed;
                    break;
                }

                if (!listed.TryBeginEcho())
                {
                    Statistics.Add(EchoCounter.BytesDiscarded, received); // stop shut our side while this arrived: too late to echo
                    continue;
                }

                listed.Received(received);
                Statistics.Add(EchoCounter.BytesIn, received);
                Statistics.Add(EchoCounter.BufferedBytes, received);
                AsciiUpper.ToUpperInPlace(buffer.AsSpan(0, received));

                unsent = received;
                int sent = SendAll(listed, buffer.AsSpan(0, received), out error);
                unsent = received - sent;
                listed.Sent(sent);
                listed.EndEcho();
                Statistics.Add(EchoCounter.BytesOut, sent);
                Statistics.Add(EchoCounter.BufferedBytes, -received);
                if (error != SocketError.Success)
                {
                    reason = Classify(error);
                    break;
                }
            }

            if (reason == CloseReason.ClientClosed && !listed.IsShut)
            {
                client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception exception) when (Stopping && SocketErrors.IsAborted(exception))
        {
            reason = CloseReason.ServerStopping; // stop closed the socket under the blocked call
        }
        catch (SocketException exception) when (SocketErrors.IsConnectionLost(exception))
        {
            reason = CloseReason.Reset; // the shutdown above raced a reset from the client
        }
        finally
        {
            Connections.Remove(id); // first: stop must not abort a socket that is being closed here
            if (reason == CloseReason.IdleStalled)
            {
                SocketSetup.Abort(client); // the client stopped reading: a reset, not a FIN after echoes nobody reads
            }
            else
            {
                SocketSetup.CloseQuietly(client);
            }

            Closed(listed, reason, unsent);
        }
    }

    /// <summary>
    /// Blocking Send until every byte is taken (a blocking send can still return short, e.g. when
    /// interrupted or at its timeout). A send that times out with nothing taken asks the idle rule;
    /// if the client stopped reading, it returns with <see cref="SocketError.TimedOut"/>.
    /// </summary>
    private int SendAll(FlowConnection listed, ReadOnlySpan<byte> data, out SocketError error)
    {
        int total = 0;
        error = SocketError.Success;
        while (total < data.Length)
        {
            Statistics.Increment(EchoCounter.SendCalls);
            int sent = listed.Socket.Send(data[total..], SocketFlags.None, out error); // blocks while the client's window is full
            if (error is SocketError.TimedOut or SocketError.WouldBlock && Idle.Enabled)
            {
                if (!Stopping && IdleLook(listed, echoPending: true) is not null)
                {
                    error = SocketError.TimedOut;
                    break;
                }

                error = SocketError.Success;
                continue;
            }

            if (error != SocketError.Success)
            {
                break;
            }

            total += sent;
            listed.Touch();
        }

        return total;
    }
}
