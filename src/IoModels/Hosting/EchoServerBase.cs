using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Serilog;

namespace IoModels;

/// <summary>
/// The life cycle every engine shares, so each engine file holds only its model: binding the
/// listener, admitting or refusing connections against the limit, counting the threads it starts
/// and joining them on stop, and the open/close bookkeeping and log lines.
/// </summary>
public abstract partial class EchoServerBase : IEchoServer, IConnectionListing
{
    private static long s_nextConnectionId;

    private readonly ConcurrentDictionary<int, Thread> _threads = new();
    private readonly object _lifecycleLock = new();
    private Socket? _listener;
    private IPEndPoint? _localEndPoint;
    private Task? _stopTask;
    private readonly TaskCompletionSource _allClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private volatile bool _aborting;
    private long _refusedSinceLog;
    private long _lastRefusalLog = long.MinValue;

    protected EchoServerBase(string model, EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Model = model;
        Options = options;
        Log = options.Logger;
        Trace = new TraceAggregator(Log, model);
        Idle = new IdleRule(options.IdleTimeout);
    }

    public string Model { get; }

    public EchoStatistics Statistics { get; } = new();

    public IPEndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("The server has not been started.");

    protected EchoServerOptions Options { get; }

    protected internal ILogger Log { get; }

    /// <summary>The idle rule, the same for every engine: see <see cref="IdleRule"/>.</summary>
    protected IdleRule Idle { get; }

    /// <summary>Step narration for <c>serve --trace</c>: call <see cref="TraceAggregator.Record"/> at each step; free when tracing is off.</summary>
    protected TraceAggregator Trace { get; }

    /// <summary>
    /// True once <see cref="StopAsync"/> has begun: the listener is closed, so accept errors are expected,
    /// and engines drain (see <see cref="EchoServerBase"/>'s Drain partial): no new reads, every pending
    /// echo sent, then FIN.
    /// </summary>
    protected internal bool Stopping => _stopping;

    /// <summary>
    /// True once draining is over: every connection closed, or the drain deadline passed. Engine loops
    /// end now; what is still open is cut with a reset in <see cref="StopCoreAsync"/>.
    /// </summary>
    protected bool Aborting => _aborting;

    /// <summary>Every open connection an engine tracks (<see cref="Track"/>): for the dashboard, and for engines that close connections from outside their owner.</summary>
    protected ConnectionTable Connections { get; } = new();

    public int ListedConnections => Connections.Count;

    public IReadOnlyList<ConnectionSnapshot> ListConnections(int max) => Connections.Snapshot(max, Environment.TickCount64);

    /// <summary>The most connections served at once: the option, or less where the model itself is bounded.</summary>
    protected virtual int ConnectionLimit => Options.MaxConnections;

    /// <summary>A client was refused at <see cref="ConnectionLimit"/>: an engine whose own model sets the limit says why here.</summary>
    protected virtual void OnLimitReached()
    {
    }

    /// <summary>Engines that run one listener per loop set this to bind with SO_REUSEPORT.</summary>
    protected virtual bool ReusePort => false;

    public void Start()
    {
        lock (_lifecycleLock)
        {
            if (_listener is not null || _stopTask is not null)
            {
                throw new InvalidOperationException("The server has already been started.");
            }

            Socket listener = SocketSetup.CreateListener(Options, ReusePort);
            try
            {
                _localEndPoint = (IPEndPoint)listener.LocalEndPoint!;
                _listener = listener;
                EchoLog.Listening(Log, Model, _localEndPoint);

                StartCore(listener);
            }
            catch
            {
                _stopping = true;
                listener.Dispose();
                _listener = null;
                throw;
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task stop;
        lock (_lifecycleLock)
        {
            _stopTask ??= StopOnceAsync();
            stop = _stopTask;
        }

        return stop.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Bounded: a dispose that waits forever on a stuck thread would hang its caller.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Expected when a thread would not end in time; it is a background thread and is abandoned.
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Starts serving on <paramref name="listener"/>, which is bound and listening.</summary>
    protected abstract void StartCore(Socket listener);

    /// <summary>
    /// Stop has begun (<see cref="Stopping"/> is true, the listener is closed): wake whatever waits so it
    /// starts draining. Engines whose loops wake by themselves (the listener's close is an event they
    /// see) need not override it.
    /// </summary>
    protected virtual void BeginDrain()
    {
    }

    /// <summary>
    /// Draining is over (<see cref="Aborting"/> is true): cut every connection still open with a reset
    /// (counting what it leaves unechoed) and wake every engine thread so it can end. Threads started
    /// with <see cref="StartThread"/> are joined afterwards.
    /// </summary>
    protected abstract Task StopCoreAsync();

    private async Task StopOnceAsync()
    {
        _stopping = true;
        using TraceAggregator trace = Trace; // the last trace summary is written once every thread has ended
        if (_listener is null)
        {
            _aborting = true;
            return; // never started, or failed to start: nothing runs
        }

        EchoLog.Stopping(Log, Model, Statistics[EchoCounter.ConnectionsActive], Options.DrainTimeout);
        _listener.Dispose();
        if (Statistics[EchoCounter.ConnectionsActive] == 0)
        {
            _allClosed.TrySetResult(); // nothing to drain; a close from now on would also see 0 and set it
        }

        BeginDrain();
        try
        {
            await _allClosed.Task.WaitAsync(Options.DrainTimeout);
        }
        catch (TimeoutException)
        {
            // Expected when a client does not read its echoes or does not close: what is left is cut below.
            EchoLog.DrainDeadline(Log, Model, Statistics[EchoCounter.ConnectionsActive]);
        }

        _aborting = true;
        await StopCoreAsync();
        await Task.Run(JoinThreads);
        EchoLog.Stopped(Log, Model, Statistics[EchoCounter.ConnectionsDrained], Statistics[EchoCounter.ConnectionsCutAtStop], Statistics[EchoCounter.BytesNotEchoed]);
    }

    private void JoinThreads()
    {
        // Until none is left: an acceptor may start one more connection thread while the first ones
        // are joined (each thread removes itself from the set when it ends).
        while (!_threads.IsEmpty)
        {
            foreach (Thread thread in _threads.Values)
            {
                if ((thread.ThreadState & ThreadState.Unstarted) != 0)
                {
                    Thread.Sleep(1); // registered but not started yet (StartThread is between the two): look again
                    continue;
                }

                thread.Join();
            }
        }
    }

    /// <summary>
    /// Starts a counted background thread running <paramref name="body"/>. An exception escaping the
    /// body is a bug: it is logged and counted as a fault rather than taking the process down.
    /// </summary>
    protected Thread StartThread(string name, Action body, int maxStackSize = 0)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception exception) when (!Stopping || !SocketErrors.IsAborted(exception))
            {
                ReportFault(exception);
            }
            catch (Exception)
            {
                // Expected: a call aborted because the server is stopping and closed the socket under it.
            }
            finally
            {
                Statistics.Decrement(EchoCounter.Threads);
                _threads.TryRemove(Environment.CurrentManagedThreadId, out _);
            }
        }, maxStackSize)
        {
            IsBackground = true,
            Name = name,
        };
        Statistics.Increment(EchoCounter.Threads);
        _threads[thread.ManagedThreadId] = thread;
        try
        {
            thread.Start();
        }
        catch (OutOfMemoryException)
        {
            // The OS refused a thread: undo the bookkeeping (an unstarted thread cannot be joined) and let the engine decide.
            Statistics.Decrement(EchoCounter.Threads);
            _threads.TryRemove(thread.ManagedThreadId, out _);
            throw;
        }

        return thread;
    }

    /// <summary>Logs and counts an exception that no engine should ever see.</summary>
    protected internal void ReportFault(Exception exception)
    {
        Statistics.Increment(EchoCounter.Faults);
        EchoLog.Fault(Log, Model, exception);
    }

    /// <summary>
    /// Counts a freshly accepted socket in, or refuses it when the connection limit is reached
    /// (accepted and closed at once, so the client sees an orderly end rather than a hang).
    /// Returns the connection id, or 0 when refused.
    /// </summary>
    protected long Admit(Socket accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        long id = Admit(RemoteOf(accepted));
        if (id == 0)
        {
            SocketSetup.CloseQuietly(accepted);
            return 0;
        }

        SocketSetup.ConfigureAccepted(accepted);
        return id;
    }

    /// <summary>
    /// <see cref="Admit(Socket)"/> for engines that accept raw descriptors rather than sockets: counts
    /// the connection in, or counts and logs a refusal when the limit is reached. Returns the
    /// connection id, or 0 when refused, in which case the caller closes the descriptor at once.
    /// </summary>
    protected long Admit(EndPoint? remote)
    {
        if (Stopping)
        {
            Statistics.Increment(EchoCounter.ConnectionsRejected); // accepted just as stop began: closed at once, and not a limit refusal
            return 0;
        }

        if (Statistics[EchoCounter.ConnectionsActive] >= ConnectionLimit)
        {
            Refused(remote, ConnectionLimit);
            OnLimitReached();
            return 0;
        }

        long id = Interlocked.Increment(ref s_nextConnectionId);
        Statistics.Increment(EchoCounter.ConnectionsAccepted);
        Statistics.Increment(EchoCounter.ConnectionsActive);
        EchoLog.Accepted(Log, Model, id, remote);
        return id;
    }

    /// <summary>
    /// Counts a refused connection and logs it, at most once a second with the number refused since
    /// the last line: a flood of clients must not become a flood of log lines. The caller closes the socket.
    /// </summary>
    protected void Refused(EndPoint? remote, int limit)
    {
        Statistics.Increment(EchoCounter.ConnectionsRejected);
        long refused = Interlocked.Increment(ref _refusedSinceLog);
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastRefusalLog);
        if ((last == long.MinValue || now - last >= 1000) && Interlocked.CompareExchange(ref _lastRefusalLog, now, last) == last)
        {
            Interlocked.Add(ref _refusedSinceLog, -refused);
            EchoLog.Rejected(Log, Model, remote, limit, refused);
        }
    }

    /// <summary>
    /// Counts a connection out and logs why it ended; <paramref name="unechoed"/> is what it had received
    /// and not yet echoed (counted as lost only when stop cut it). The caller closes the socket. The last
    /// close while stopping ends the drain.
    /// </summary>
    protected void Closed(Connection connection, CloseReason reason, long unechoed = 0)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Closed(connection.Id, connection.Remote, connection.BytesIn, connection.BytesOut, reason, unechoed);
    }

    /// <inheritdoc cref="Closed(Connection, CloseReason, long)"/>
    protected void Closed(long id, EndPoint? remote, long bytesIn, long bytesOut, CloseReason reason, long unechoed = 0)
    {
        Connections.Remove(id);
        switch (reason)
        {
            case CloseReason.Reset:
                Statistics.Increment(EchoCounter.ConnectionsReset);
                break;
            case CloseReason.IdleTimeout:
            case CloseReason.IdleStalled:
                Statistics.Increment(EchoCounter.ConnectionsTimedOut);
                break;
            case CloseReason.ServerStopping:
                Statistics.Increment(EchoCounter.ConnectionsCutAtStop);
                Statistics.Add(EchoCounter.BytesNotEchoed, unechoed);
                break;
            case CloseReason.Drained:
            case CloseReason.ClientClosed when Stopping:
                Statistics.Increment(EchoCounter.ConnectionsDrained);
                break;
        }

        EchoLog.Closed(Log, Model, id, remote, bytesIn, bytesOut, reason);
        if (Statistics.Decrement(EchoCounter.ConnectionsActive) == 0 && Stopping)
        {
            _allClosed.TrySetResult();
        }
    }

    /// <summary>Adds a connection to <see cref="Connections"/> (the dashboard's rows) until it is counted out with <see cref="Closed(Connection, CloseReason, long)"/>.</summary>
    protected void Track(Connection connection) => Connections.Add(connection);

    /// <summary>
    /// The one accept policy (<see cref="AcceptPolicy"/>) for an accepting thread or loop on
    /// <paramref name="listener"/>. For a loop that calls accept whether or not a client waits,
    /// <paramref name="passCounters"/> are its own counters: the reserve is then probed only after
    /// an accept succeeded, and the accept counts go with the loop's other counts.
    /// </summary>
    protected AcceptPolicy CreateAcceptPolicy(Socket listener, LocalCounters? passCounters = null) =>
        new(this, new DescriptorHeadroom(listener), probeOnlyAfterAccepts: passCounters is not null, passCounters);

    /// <inheritdoc cref="CreateAcceptPolicy(Socket, LocalCounters)"/>
    protected AcceptPolicy CreateAcceptPolicy(int listenerFd) => new(this, new DescriptorHeadroom(listenerFd), probeOnlyAfterAccepts: false);

    /// <summary>
    /// Why a connection ends when a receive or send on it failed with <paramref name="error"/>, the one
    /// classification every engine uses: an abort we caused by stopping (or anything after the drain
    /// deadline, when our own reset may come back as any error) is <see cref="CloseReason.ServerStopping"/>;
    /// a peer that is gone is <see cref="CloseReason.Reset"/>; anything else (ENOBUFS under memory pressure,
    /// or a bug) is a reset too, and also counted as a fault: it ends that connection, never the loop.
    /// </summary>
    protected CloseReason CloseReasonFor(SocketError error, string call)
    {
        if (Aborting || (Stopping && SocketErrors.IsAborted(error)))
        {
            return CloseReason.ServerStopping;
        }

        if (!SocketErrors.IsConnectionLost(error))
        {
            ReportFault(new SocketException((int)error, $"{call}: {error}"));
        }

        return CloseReason.Reset;
    }

    /// <summary>The remote endpoint, or null once the socket can no longer say (reset or closed).</summary>
    protected static EndPoint? RemoteOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Expected: a reset or closed socket has no remote endpoint to report; the log shows none.
            return null;
        }
    }
}
