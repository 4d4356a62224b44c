using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace IoModels.Async;

/// <summary>
/// The async/await model: no thread waits on any one connection; each connection is a chain of
/// awaited socket operations whose continuations run on thread-pool threads when the runtime says
/// an operation completed.
/// </summary>
/// <remarks>
/// How this model works — read top to bottom:
/// 1. Every operation is started and awaited. While it is pending, no thread of ours is blocked: the
///    method's state machine is saved on the heap and the thread goes back to the pool. A few
///    threads serve thousands of connections.
/// 2. On Linux and macOS this is readiness underneath, not kernel completion: the runtime's own
///    epoll/kqueue thread learns a socket is ready, a pool thread then makes the non-blocking
///    recv/send, and only then is our await "completed". On Windows .NET binds sockets to an IO
///    completion port, and a receive WITH a buffer is completion (the kernel copies, then posts).
///    This engine, though, waits with a zero-byte receive (point 3): on Windows that completion
///    only says "data arrived", IOCP acting as a readiness signal, and the real receive after it
///    usually completes at once, inline. So on every OS this engine is readiness plus a copy.
///    (The <c>uring</c> model shows what completion looks like on Linux.)
/// 3. A quiet connection waits for data with a zero-byte receive, which needs no buffer, and only
///    then rents a buffer from the pool for the real receive and the echo. So an idle connection
///    holds no receive buffer, which is what makes 10,000 idle clients cheap. The wait
///    costs a system call, though: on Linux the runtime first tries it, a one-byte recv with
///    MSG_PEEK that says "would block"; when epoll then reports data the wait completes with no
///    further call, and the real receive copies: two recv per message for a quiet connection
///    (strace shows "peek EAGAIN, recv, send" per message in a ping-pong).
///    A connection whose data was already waiting when it asked is busy: it keeps its buffer and,
///    after each echo, receives at once with one non-blocking call, both phases in one recv. The
///    first call that would block returns the buffer and sends the connection back to waiting. A
///    busy stream costs one recv per message, a quiet one two; a busy connection going quiet pays
///    two that say EAGAIN (its last recv and the wait's try). A receive that would block never
///    stays posted holding a buffer.
/// 4. The awaitable is one reusable SocketAsyncEventArgs per connection: no allocation per message.
/// 5. Backpressure: the next receive starts only after the echo was fully sent, so a client that
///    stops reading stalls its own connection at one buffer and nothing else.
/// 6. Stop drains: a connection that is waiting (in its zero-byte receive, or between two busy
///    receives) holds no echo, so stop shuts its sending side down (FIN) from outside; one that is
///    echoing finishes and shuts down itself.
///    Then it reads and discards until the client closes (FlowConnection.TryShut decides
///    which of the two does it, exactly once).
/// </remarks>
public sealed partial class AsyncEchoServer : EchoServerBase
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _serving; // connections whose ServeAsync has not finished; stop waits for zero
    private Timer? _idleTimer;
    private int _sweeping; // 1 while an idle sweep runs: timer callbacks may overlap, a sweep must not
    private Task? _acceptLoop;

    public AsyncEchoServer(EchoServerOptions options)
        : base("async", options)
    {
    }

    protected override void StartCore(Socket listener)
    {
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener));
        if (Idle.Enabled)
        {
            _idleTimer = new Timer(_ => CloseIdle(), null, Idle.SweepPeriod, Idle.SweepPeriod);
        }
    }

    private async Task ServeAsync(Socket client, long id)
    {
        EndPoint? remote = RemoteOf(client);
        var listed = new FlowConnection(id, remote, client); // for the dashboard, the idle sweep and stop
        Track(listed);
        await Task.Yield(); // leave the accept loop's thread at once; everything below is this connection's
        using var operation = new SocketAwaitableEventArgs();
        long unsent = 0;
        CloseReason reason = CloseReason.ServerStopping;
        byte[]? buffer = null; // rented for an echo, and kept between echoes only while the connection is busy
        bool busy = false;
        try
        {
            client.Blocking = false; // the busy path's receive (point 3) returns "would block"; awaited operations do not care
            while (true)
            {
                if (listed.ShutForStop(Stopping))
                {
                    ReturnBuffer(ref buffer);
                    reason = await DiscardAsync(listed, operation);
                    break;
                }

                SocketResult received;
                if (buffer is null)
                {
                    // Quiet: phase 1, waiting for data, with no buffer; completes when data (or end of stream) is there.
                    Statistics.Increment(EchoCounter.ReceiveCalls);
                    ValueTask<SocketResult> waiting = operation.ReceiveAsync(client, Memory<byte>.Empty);
                    bool wentPending = !waiting.IsCompleted;
                    if (wentPending)
                    {
                        Trace.Record(TraceEvent.OperationPending, id);
                    }

                    SocketResult ready = await waiting;
                    Statistics.Increment(EchoCounter.Completions);
                    if (wentPending)
                    {
                        Trace.Record(TraceEvent.CompletionArrived, id, ready.BytesTransferred);
                    }

                    if (!ready.Succeeded)
                    {
                        reason = Classify(listed, ready.Error);
                        break;
                    }

                    if (!listed.TryBeginEcho())
                    {
                        continue; // stop shut our side while we waited: nothing was read, so the top of the loop discards
                    }

                    // Phase 2, copying: the data is there, so this normally completes synchronously.
                    buffer = ArrayPool<byte>.Shared.Rent(Options.BufferSize);
                    Statistics.Increment(EchoCounter.ReceiveCalls);
                    received = await operation.ReceiveAsync(client, buffer.AsMemory(0, Options.BufferSize));

                    // Data already waiting when we asked means a busy connection: keep the buffer and, after
                    // this echo, receive straight away. Data that came later means a conversation: wait again.
                    busy = !wentPending;
                }
                else
                {
                    if (!listed.TryBeginEcho())
                    {
                        continue; // stop shut our side after the last echo: the top of the loop discards
                    }

                    // Busy: both phases in one non-blocking call. Data waiting costs one recv; none waiting
                    // costs one recv that says "would block", and the connection goes back to waiting with no buffer.
                    Statistics.Increment(EchoCounter.ReceiveCalls);
                    int bytes = client.Receive(buffer.AsSpan(0, Options.BufferSize), SocketFlags.None, out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        Statistics.Increment(EchoCounter.WouldBlock);
                        listed.EndEcho();
                        ReturnBuffer(ref buffer);
                        busy = false;
                        continue;
                    }

                    received = new SocketResult(bytes, error);
                }

                if (!received.Succeeded)
                {
                    reason = Classify(listed, received.Error);
                    break;
                }

                if (received.BytesTransferred == 0)
                {
                    reason = CloseReason.ClientClosed; // end of stream, and every echo has been sent
                    break;
                }

                int count = received.BytesTransferred;
                unsent = count;
                listed.Received(count);
                Statistics.Add(EchoCounter.BytesIn, count);
                Statistics.Add(EchoCounter.BufferedBytes, count);
                listed.Touch();
                AsciiUpper.ToUpperInPlace(buffer.AsSpan(0, count));

                int sent = 0;
                SocketError sendError = SocketError.Success;
                while (sent < count)
                {
                    Statistics.Increment(EchoCounter.SendCalls);
                    SocketResult result = await operation.SendAsync(client, buffer.AsMemory(sent, count - sent));
                    if (!result.Succeeded)
                    {
                        sendError = result.Error;
                        break;
                    }

                    sent += result.BytesTransferred;
                    unsent = count - sent;
                }

                listed.Sent(sent);
                Statistics.Add(EchoCounter.BytesOut, sent);
                Statistics.Add(EchoCounter.BufferedBytes, -count);
                listed.Touch();
                listed.EndEcho();
                if (sendError != SocketError.Success)
                {
                    reason = Classify(listed, sendError);
                    break;
                }

                if (!busy)
                {
                    ReturnBuffer(ref buffer);
                }
            }

            if (reason == CloseReason.ClientClosed && !listed.IsShut)
            {
                client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception exception) when ((Stopping || listed.IsClosedForIdle) && SocketErrors.IsAborted(exception))
        {
            // Stop (or the idle sweep, between two operations) closed the socket under us; the
            // finally below logs an idle close as such.
            reason = CloseReason.ServerStopping;
        }
        catch (SocketException exception) when (SocketErrors.IsConnectionLost(exception))
        {
            reason = CloseReason.Reset; // the shutdown above raced a reset from the client
        }
        catch (Exception exception)
        {
            // Nothing awaits this task (no per-connection continuation to keep alive): a bug here is
            // reported, counted in Faults, and the connection closed like any other.
            ReportFault(exception);
        }
        finally
        {
            ReturnBuffer(ref buffer);
            Connections.Remove(id); // first: stop must not abort a socket that is being closed here
            SocketSetup.CloseQuietly(client);
            CloseReason idle = listed.StalledAtIdle ? CloseReason.IdleStalled : CloseReason.IdleTimeout;
            Closed(listed, listed.IsClosedForIdle ? idle : reason, unsent);
            if (Interlocked.Decrement(ref _serving) == 0 && Stopping)
            {
                _drained.TrySetResult(); // the last connection of a stopping server is gone
            }
        }
    }

    private static void ReturnBuffer(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }
}
