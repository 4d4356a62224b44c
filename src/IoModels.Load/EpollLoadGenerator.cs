using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using HdrHistogram;

namespace IoModels.Load;

/// <summary>
/// The load generator's Linux engine: a few dedicated threads, each owning a share of the connections
/// through non-blocking sockets and its own level-triggered epoll instance, shaped like the C client
/// in <c>tests/bench/c-load-client</c> it is checked against.
/// </summary>
/// <remarks>
/// Why a second engine: the portable one (<see cref="LoadGenerator"/> over SocketAsyncEventArgs) hands
/// every completion to a thread-pool thread. Against the C epoll server on 2 cores that capped it at
/// about 0.8 million messages a second where the C client drove the same server at 1.4 million, so it,
/// not the server, was being measured. Here a receive is one recv(2) on the thread that waited, then a
/// vectorised compare, then one send(2) for the messages that echo made room for.
///
/// The stream, the checks and the timing are the portable engine's: byte <c>p</c> of a connection's
/// stream is <c>'a' + p % 26</c>, every echoed byte is compared with the uppercase at its stream
/// position, each connection keeps at most <c>D</c> messages in flight with their send times in a ring
/// of <c>D</c> slots, and latency is recorded into one HdrHistogram per thread. With a rate, each
/// connection's messages are due on a fixed schedule, every thread sends what is due at least once a
/// millisecond, and latency counts from when a message was due (no coordinated omission).
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed partial class EpollLoadGenerator : IDisposable
{
    /// <summary>Bytes per recv(2), and the most one send(2) is handed: the C client's chunk.</summary>
    private const int Chunk = 64 * 1024;

    /// <summary>Events taken per epoll_wait: the C client's batch.</summary>
    private const int MaxEvents = 256;

    /// <summary>
    /// Non-blocking connects in progress at once per thread. On loopback a handshake completes at once,
    /// so this bounds only the epoll set while connecting; the server's listen backlog (4,096 for
    /// iomodels and the C server) is what decides whether a burst of 10,000 connects queues or drops.
    /// </summary>
    private const int ConnectsInFlight = 1024;

    /// <summary>How long a wait may block before the thread looks at the clock and the stop flag again.</summary>
    private const int WaitMilliseconds = 10;

    private readonly LoadOptions _options;
    // Native, so the workers hand them to send(2) and compare against them without pinning.
    private readonly nint _pattern;
    private readonly nint _expected;
    private readonly byte[] _address; // the endpoint as the OS's own struct sockaddr
    private readonly ManualResetEventSlim _go = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly double _nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private long _sendStart;
    private long _measureStart;
    private long _measureEnd;
    private double _ticksPerMessage;
    private volatile bool _stopping;

    private EpollLoadGenerator(LoadOptions options)
    {
        _options = options;
        _pattern = Alphabet(26 + Chunk, (byte)'a');
        _expected = Alphabet(26 + Chunk, (byte)'A');
        // The runtime's SocketAddress holds the platform's native sockaddr (sockaddr_in or sockaddr_in6).
        System.Net.SocketAddress native = options.EndPoint.Serialize();
        _address = native.Buffer[..native.Size].ToArray();
    }

    /// <summary>Threads used when <see cref="LoadOptions.Threads"/> is not set: half the cores, at least one.</summary>
    internal static int DefaultThreads => Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Opens the connections, runs the warm-up and the measured window, closes everything, and reports.</summary>
    public static async Task<LoadResult> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        using var generator = new EpollLoadGenerator(options);
        return await generator.RunAsync(cancellationToken);
    }

    public unsafe void Dispose()
    {
        NativeMemory.Free((void*)_pattern);
        NativeMemory.Free((void*)_expected);
        _go.Dispose();
        _stop.Dispose();
    }

    private async Task<LoadResult> RunAsync(CancellationToken cancellationToken)
    {
        int threads = Math.Min(_options.Threads ?? DefaultThreads, _options.Connections);
        var workers = new Worker[threads];
        for (int w = 0; w < threads; w++)
        {
            // Connection i belongs to thread i % threads; its open-loop phase is i / connections, so the
            // schedule is staggered across the whole set, not per thread.
            int count = (_options.Connections - w + threads - 1) / threads;
            workers[w] = new Worker(this, Enumerable.Range(0, count).Select(k => (double)(w + (k * threads)) / _options.Connections).ToArray(), w);
        }

        long connectStarted = Stopwatch.GetTimestamp();
        int started = 0;
        bool cancelled = false;
        long stoppedAt = 0;
        long holdStarted = 0;
        TimeSpan connectTime = TimeSpan.Zero;
        TimeSpan? allEchoedAfter = null;
        try
        {
            // Inside the try: if the OS refuses a thread, the ones already running are stopped and joined.
            for (; started < workers.Length; started++)
            {
                workers[started].Start();
            }

            await Task.WhenAll(workers.Select(w => w.Connected)).WaitAsync(cancellationToken);
            connectTime = Stopwatch.GetElapsedTime(connectStarted);
            if (workers.Select(w => w.Fault).FirstOrDefault(f => f is not null) is { } connectFault)
            {
                ExceptionDispatchInfo.Capture(connectFault).Throw(); // nothing to measure; the finally below stops the rest
            }

            _sendStart = Stopwatch.GetTimestamp();
            _measureStart = _sendStart + LoadGenerator.ToTicks(_options.Warmup);
            _measureEnd = _measureStart + LoadGenerator.ToTicks(_options.Duration);
            int opened = workers.Sum(w => w.Opened);
            if (_options.Rate is { } rate)
            {
                // Each connection gets an equal share of the rate.
                _ticksPerMessage = Stopwatch.Frequency * (double)Math.Max(opened, 1) / rate;
            }

            if (_options.MessagesPerConnection is not null)
            {
                // Scale mode: no clock-bound window while the echoes are sent; the workers stop
                // admitting messages at the per-connection count instead.
                _measureStart = long.MinValue;
                _measureEnd = long.MaxValue;
            }

            _go.Set(); // the fields above are written before Set, and read by the workers after Wait
            _options.PhaseChanged?.Invoke(LoadPhase.WarmingUp);
            if (_options.MessagesPerConnection is null)
            {
                await LoadGenerator.DelayUntilAsync(_measureStart, cancellationToken);
                _options.PhaseChanged?.Invoke(LoadPhase.Measuring);
                await LoadGenerator.DelayUntilAsync(_measureEnd, cancellationToken);
            }
            else
            {
                try
                {
                    await Task.WhenAll(workers.Select(w => w.Echoed)).WaitAsync(_options.ConnectTimeout, cancellationToken);
                    allEchoedAfter = Stopwatch.GetElapsedTime(connectStarted);
                }
                catch (TimeoutException)
                {
                    // Some connection never had all its echoes: AllEchoedAfter stays null, and the hold goes on.
                }

                _options.PhaseChanged?.Invoke(LoadPhase.Measuring);
                holdStarted = Stopwatch.GetTimestamp();
                await Task.Delay(_options.Duration, cancellationToken); // every connection open and idle
            }

            stoppedAt = Stopwatch.GetTimestamp();
            _options.PhaseChanged?.Invoke(LoadPhase.Finished);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true; // rethrown below, once every thread has closed its connections
        }
        finally
        {
            _stopping = true;
            _go.Set();
            _stop.Set();
            foreach (Worker worker in workers.Take(started))
            {
                worker.Join();
            }
        }

        if (cancelled)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        if (workers.Select(w => w.Fault).FirstOrDefault(f => f is not null) is { } fault)
        {
            ExceptionDispatchInfo.Capture(fault).Throw();
        }

        var latency = new LongHistogram(LoadGenerator.HighestTrackableNanoseconds, LoadGenerator.SignificantDigits);
        foreach (Worker worker in workers)
        {
            latency.Add(worker.Histogram);
        }

        long measuredTicks = _options.MessagesPerConnection is null
            ? Math.Max(0, Math.Min(stoppedAt, _measureEnd) - _measureStart)
            : Math.Max(0, stoppedAt - holdStarted);
        int failedConnects = workers.Sum(w => w.ConnectFailures);
        return new LoadResult(_options, latency)
        {
            Generator = LoadGeneratorKind.Epoll,
            Threads = threads,
            ConnectionsOpened = workers.Sum(w => w.Opened),
            ConnectFailures = failedConnects,
            ConnectTime = connectTime,
            AllEchoedAfter = allEchoedAfter,
            Elapsed = TimeSpan.FromSeconds((double)measuredTicks / Stopwatch.Frequency),
            Messages = workers.Sum(w => w.Messages),
            Errors = failedConnects + workers.Sum(w => w.Errors),
            MismatchedBytes = workers.Sum(w => w.MismatchedBytes),
        };
    }

    /// <summary><see cref="LoadGenerator.Alphabet"/> in native memory, which send(2) and the checks read without pinning.</summary>
    private static unsafe nint Alphabet(int length, byte first)
    {
        void* buffer = NativeMemory.Alloc((nuint)length);
        LoadGenerator.Alphabet(length, (char)first).CopyTo(new Span<byte>(buffer, length));
        return (nint)buffer;
    }
}
