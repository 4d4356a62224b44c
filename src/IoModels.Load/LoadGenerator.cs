using System.Diagnostics;
using System.Net.Sockets;
using HdrHistogram;

namespace IoModels.Load;

/// <summary>
/// Drives an echo server with many connections and checks every byte that comes back.
/// </summary>
/// <remarks>
/// How it works, and why it is cheap enough not to be what is measured:
/// 1. The stream each connection sends is the lowercase alphabet repeated: byte <c>p</c> of the
///    stream is <c>'a' + p % 26</c>. Message <c>k</c> is bytes <c>k*S .. (k+1)*S</c>. So any batch of
///    consecutive messages is one slice of a shared read-only pattern buffer, and the expected echo of
///    any received chunk is one slice of a shared uppercase buffer: checking is a vectorised compare,
///    and nothing is allocated or copied per message.
/// 2. All connections open first (timed as the connect time), then each sends <c>D</c> messages and
///    sends one more for each echo that completes (closed loop). With a rate, messages are due on a
///    fixed per-connection schedule instead, a pacer thread sends what is due, and latency counts from
///    when a message was due, not when it went out (open loop: no coordinated omission).
/// 3. Each connection has two reusable <see cref="SocketAsyncEventArgs"/>, one sending, one receiving,
///    and a ring of <c>D</c> send timestamps (<see cref="Stopwatch.GetTimestamp"/>): at most <c>D</c> messages
///    are in flight, so slot <c>k % D</c> is free when message <c>k</c> is sent. Completions run on the
///    runtime's socket threads; there is no thread per connection.
/// 4. Latencies go into one HdrHistogram per thread (no lock, no contention), merged at the end.
///    Only echoes that complete inside the measured window are counted and timed; errors and
///    mismatches are counted for the whole run.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The per-thread histograms must outlive the run: a socket completion may still touch one after RunAsync returns.")]
public sealed partial class LoadGenerator
{
    /// <summary>The slowest round trip the histogram can hold: 60 s, far beyond any sane run.</summary>
    internal const long HighestTrackableNanoseconds = 60_000_000_000;

    /// <summary>Three significant digits: 0.1% resolution at every scale, HdrHistogram's usual choice.</summary>
    internal const int SignificantDigits = 3;

    /// <summary>
    /// Receive buffer per connection: the whole in-flight window, between 1 KiB and 64 KiB. Smaller
    /// means more receive calls per echo; larger only costs memory at 10,000 connections.
    /// </summary>
    private const int MinReceiveBuffer = 1024;
    private const int MaxReceiveBuffer = 64 * 1024;

    /// <summary>Connects in flight at once: enough to open 10,000 in a second or two, few enough not to overflow a listen backlog.</summary>
    private const int ConnectParallelism = 64;

    /// <summary>The open-loop pacer's period: 1 ms, the finest a sleeping thread reliably gets on Linux.</summary>
    private static readonly TimeSpan s_pacerPeriod = TimeSpan.FromMilliseconds(1);

    private readonly LoadOptions _options;
    private readonly byte[] _pattern;
    private readonly byte[] _expected;
    private readonly int _receiveBufferSize;
    private readonly ThreadLocal<LongHistogram> _histograms =
        new(() => new LongHistogram(HighestTrackableNanoseconds, SignificantDigits), trackAllValues: true);

    private long _sendStart;
    private long _measureStart;
    private long _measureEnd;
    private double _ticksPerMessage;
    private volatile bool _stopping;

    private LoadGenerator(LoadOptions options)
    {
        _options = options;
        int window = (int)Math.Min((long)options.MessageSize * options.Depth, MaxReceiveBuffer);
        _receiveBufferSize = Math.Max(window, MinReceiveBuffer);
        _pattern = Alphabet(26 + (options.MessageSize * options.Depth), 'a');
        _expected = Alphabet(26 + _receiveBufferSize, 'A');
    }

    /// <summary>Opens the connections, runs the warm-up and the measured window, closes everything, and reports.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (connections are closed first).</exception>
    public static Task<LoadResult> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (OperatingSystem.IsLinux() && options.Generator != LoadGeneratorKind.Sockets)
        {
            return EpollLoadGenerator.RunAsync(options, cancellationToken);
        }

        return new LoadGenerator(options).RunAsync(cancellationToken);
    }

    private async Task<LoadResult> RunAsync(CancellationToken cancellationToken)
    {
        var connections = new Connection?[_options.Connections];
        try
        {
            long connectStarted = Stopwatch.GetTimestamp();
            await ConnectAllAsync(connections, cancellationToken);
            TimeSpan connectTime = Stopwatch.GetElapsedTime(connectStarted);
            Connection[] open = connections.OfType<Connection>().ToArray();

            _sendStart = Stopwatch.GetTimestamp();
            _measureStart = _sendStart + ToTicks(_options.Warmup);
            _measureEnd = _measureStart + ToTicks(_options.Duration);
            if (_options.Rate is { } rate)
            {
                // Each connection gets an equal share of the rate, staggered so they do not all fire together.
                _ticksPerMessage = Stopwatch.Frequency * (double)Math.Max(open.Length, 1) / rate;
            }

            for (int i = 0; i < open.Length; i++)
            {
                open[i].Start((double)i / open.Length);
            }

            Thread? pacer = null;
            if (_options.Rate is not null)
            {
                pacer = new Thread(() => Pace(open)) { IsBackground = true, Name = "load pacer" };
                pacer.Start();
            }

            _options.PhaseChanged?.Invoke(LoadPhase.WarmingUp);
            bool cancelled = false;
            try
            {
                await DelayUntilAsync(_measureStart, cancellationToken);
                _options.PhaseChanged?.Invoke(LoadPhase.Measuring);
                await DelayUntilAsync(_measureEnd, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                cancelled = true; // rethrown below, once every connection is closed
            }

            long stoppedAt = Stopwatch.GetTimestamp();
            if (!cancelled)
            {
                _options.PhaseChanged?.Invoke(LoadPhase.Finished);
            }

            _stopping = true;
            pacer?.Join();
            CloseAll(connections);
            if (cancelled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            long measuredTicks = Math.Max(0, Math.Min(stoppedAt, _measureEnd) - _measureStart);
            var latency = new LongHistogram(HighestTrackableNanoseconds, SignificantDigits);
            foreach (LongHistogram histogram in _histograms.Values)
            {
                latency.Add(histogram);
            }

            int failedConnects = _options.Connections - open.Length;
            return new LoadResult(_options, latency)
            {
                Generator = LoadGeneratorKind.Sockets,
                ConnectionsOpened = open.Length,
                ConnectFailures = failedConnects,
                ConnectTime = connectTime,
                Elapsed = TimeSpan.FromSeconds((double)measuredTicks / Stopwatch.Frequency),
                Messages = open.Sum(c => c.MeasuredMessages),
                Errors = failedConnects + open.Sum(c => c.Errors),
                MismatchedBytes = open.Sum(c => c.MismatchedBytes),
            };
        }
        finally
        {
            // The per-thread histograms are not disposed: a completion already running on a socket
            // thread may still touch its own; the garbage collector reclaims them with this object.
            _stopping = true;
            CloseAll(connections);
        }
    }

    private async Task ConnectAllAsync(Connection?[] connections, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        await Parallel.ForAsync(0, connections.Length, new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism, CancellationToken = cancellationToken },
            async (i, _) =>
            {
                var socket = new Socket(_options.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(_options.EndPoint, timeout.Token);
                    connections[i] = new Connection(this, socket);
                }
                catch (Exception exception) when (exception is SocketException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // Refused, reset or too slow: counted as a connect failure (and an error) in the result.
                    socket.Dispose();
                }
            });
        cancellationToken.ThrowIfCancellationRequested();
    }

    internal static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        TimeSpan remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, cancellationToken);
        }
    }

    private void Pace(Connection[] connections)
    {
        while (!_stopping && Stopwatch.GetTimestamp() < _measureEnd)
        {
            foreach (Connection connection in connections)
            {
                connection.PumpSend();
            }

            Thread.Sleep(s_pacerPeriod);
        }
    }

    private static void CloseAll(Connection?[] connections)
    {
        foreach (Connection? connection in connections)
        {
            connection?.Dispose();
        }
    }

    private void Record(long latencyTicks) =>
        _histograms.Value!.RecordValue(Math.Clamp((long)(latencyTicks * (1e9 / Stopwatch.Frequency)), 1, HighestTrackableNanoseconds));

    internal static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>The alphabet from <paramref name="first"/>, repeated to <paramref name="length"/> bytes: the stream every connection sends (lowercase) and expects back (uppercase).</summary>
    internal static byte[] Alphabet(int length, char first)
    {
        byte[] buffer = new byte[length];
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (byte)(first + (i % 26));
        }

        return buffer;
    }
}
