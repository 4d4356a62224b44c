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
/// 1. Every operation is started and awaited. While it is pending, no thread is blocked: the method's
///    state is parked on the heap and the thread goes back to the pool. A few threads serve
///    thousands of connections.
/// 2. On Linux and macOS this is readiness underneath, not kernel completion: the runtime's own
///    epoll/kqueue thread learns a socket is ready, a pool thread then makes the non-blocking
///    recv/send, and only then is our await "completed". Windows uses IOCP, real completion.
///    (The <c>uring</c> model shows what completion looks like on Linux.)
/// 3. Each connection waits for data with a zero-byte receive, which needs no buffer, and only then
///    rents a buffer from the pool for the real receive and the echo, returning it before waiting
///    again. An idle connection therefore holds no receive buffer, which is what makes 10,000
///    idle clients cheap.
/// 4. The awaitable is one reusable SocketAsyncEventArgs per connection: no allocation per message.
/// 5. Backpressure: the next receive starts only after the echo was fully sent, so a client that
///    stops reading stalls its own connection at one buffer and nothing else.
/// </remarks>
public sealed class AsyncEchoServer : EchoServerBase, IConnectionListing
{
    private readonly ConcurrentDictionary<Socket, long> _connections = new();
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();
    private readonly ConnectionTable _listing = new(); // what the dashboard shows per connection
    private Timer? _idleTimer;
    private Task? _acceptLoop;

    public AsyncEchoServer(EchoServerOptions options)
        : base("async", options)
    {
    }

    protected override void StartCore(Socket listener)
    {
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener));
        if (Options.IdleTimeout is { } idle)
        {
            TimeSpan period = TimeSpan.FromTicks(Math.Max(idle.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
            _idleTimer = new Timer(_ => CloseIdle(idle), null, period, period);
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        using var accept = new SocketAwaitableEventArgs();
        var backoff = new AcceptBackoff();
        var headroom = new DescriptorHeadroom(listener);
        while (!Stopping)
        {
            if (headroom.IsLow())
            {
                // Nearly out of descriptors: the runtime needs some to start pool threads, so wait, as on EMFILE.
                await Task.Delay(backoff.Fail(Log, Model, Statistics, SocketError.TooManyOpenSockets));
                continue;
            }

            Statistics.Increment(EchoCounter.AcceptCalls);
            SocketResult result = await accept.AcceptAsync(listener);
            if (!result.Succeeded)
            {
                if (Stopping || SocketErrors.IsAborted(result.Error))
                {
                    return;
                }

                if (SocketErrors.IsResourceExhaustion(result.Error))
                {
                    await Task.Delay(backoff.Fail(Log, Model, Statistics, result.Error));
                }
                else
                {
                    EchoLog.AcceptFailed(Log, Model, new SocketErrorCode(result.Error));
                }

                continue;
            }

            backoff.Succeeded();
            Socket client = accept.AcceptSocket!;
            long id = Admit(client);
            if (id != 0)
            {
                Track(ServeAsync(client, id));
            }
        }
    }

    private async Task ServeAsync(Socket client, long id)
    {
        _connections[client] = Environment.TickCount64;
        if (Stopping)
        {
            SocketSetup.CloseQuietly(client); // stop may have swept the set before this connection joined it
        }

        await Task.Yield(); // leave the accept loop's thread at once; everything below is this connection's
        EndPoint? remote = RemoteOf(client);
        ConnectionTable.Entry listed = _listing.Add(id, remote);
        using var operation = new SocketAwaitableEventArgs();
        long bytesIn = 0, bytesOut = 0;
        CloseReason reason = CloseReason.ServerStopping;
        try
        {
            while (true)
            {
                // Phase 1, waiting for data, with no buffer: completes when data (or end of stream) is there.
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
                    reason = Classify(ready.Error);
                    break;
                }

                byte[] buffer = ArrayPool<byte>.Shared.Rent(Options.BufferSize);
                try
                {
                    // Phase 2, copying: the data is there, so this normally completes synchronously.
                    Statistics.Increment(EchoCounter.ReceiveCalls);
                    SocketResult received = await operation.ReceiveAsync(client, buffer.AsMemory(0, Options.BufferSize));
                    if (!received.Succeeded)
                    {
                        reason = Classify(received.Error);
                        break;
                    }

                    if (received.BytesTransferred == 0)
                    {
                        reason = CloseReason.ClientClosed; // end of stream, and every echo has been sent
                        break;
                    }

                    int count = received.BytesTransferred;
                    bytesIn += count;
                    listed.Received(count);
                    listed.Activity = ConnectionActivity.Sending;
                    Statistics.Add(EchoCounter.BytesIn, count);
                    Statistics.Add(EchoCounter.BufferedBytes, count);
                    _connections[client] = Environment.TickCount64;
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
                    }

                    bytesOut += sent;
                    listed.Sent(sent);
                    listed.Activity = ConnectionActivity.WaitingForData;
                    Statistics.Add(EchoCounter.BytesOut, sent);
                    Statistics.Add(EchoCounter.BufferedBytes, -count);
                    _connections[client] = Environment.TickCount64;
                    if (sendError != SocketError.Success)
                    {
                        reason = Classify(sendError);
                        break;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            if (reason == CloseReason.ClientClosed)
            {
                client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception exception) when (Stopping && SocketErrors.IsAborted(exception))
        {
            reason = CloseReason.ServerStopping; // stop closed the socket under a pending operation
        }
        catch (SocketException exception) when (SocketErrors.IsConnectionLost(exception))
        {
            reason = CloseReason.Reset; // the shutdown above raced a reset from the client
        }
        finally
        {
            _listing.Remove(id);
            bool idleClosed = _connections.TryRemove(client, out long lastActive) && lastActive == long.MinValue;
            SocketSetup.CloseQuietly(client);
            Closed(id, remote, bytesIn, bytesOut, idleClosed ? CloseReason.IdleTimeout : reason);
        }
    }

    public int ListedConnections => _listing.Count;

    public IReadOnlyList<ConnectionSnapshot> ListConnections(int max) => _listing.Snapshot(max);

    private CloseReason Classify(SocketError error) =>
        SocketErrors.IsAborted(error) && Stopping ? CloseReason.ServerStopping : CloseReason.Reset;

    /// <summary>Closes connections with no traffic for <paramref name="idle"/>; marks them so their close is logged as a timeout.</summary>
    private void CloseIdle(TimeSpan idle)
    {
        long now = Environment.TickCount64;
        foreach ((Socket client, long lastActive) in _connections)
        {
            if (lastActive != long.MinValue && now - lastActive >= idle.TotalMilliseconds &&
                _connections.TryUpdate(client, long.MinValue, lastActive))
            {
                SocketSetup.CloseQuietly(client); // wakes the pending receive with an aborted result
            }
        }
    }

    private void Track(Task task)
    {
        _tasks[task] = 0;
        task.ContinueWith(
            static (t, state) =>
            {
                var server = (AsyncEchoServer)state!;
                if (t.Exception is { } exception)
                {
                    server.ReportFault(exception.GetBaseException());
                }

                server._tasks.TryRemove(t, out _);
            },
            this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    protected override async Task StopCoreAsync()
    {
        if (_idleTimer is not null)
        {
            await _idleTimer.DisposeAsync();
        }

        foreach (Socket client in _connections.Keys)
        {
            SocketSetup.CloseQuietly(client);
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        // Every connection's task ends once its pending operation reports the close; faults were
        // already reported by Track, so only completion matters here.
        await Task.WhenAll(_tasks.Keys).ContinueWith(static _ => { }, TaskScheduler.Default);
    }
}
