using System.Net;

namespace IoModels.Load;

/// <summary>
/// What the load generator does: how many connections, how big each message is, how many messages
/// each connection keeps in flight, how long it warms up and measures, and whether it sends as fast
/// as echoes come back (closed loop) or on a fixed schedule (open loop, <see cref="Rate"/>).
/// </summary>
public sealed record LoadOptions
{
    /// <summary>The echo server to measure.</summary>
    public IPEndPoint EndPoint { get; init; } = new(IPAddress.Loopback, EchoServerOptions.DefaultPort);

    /// <summary>Connections opened before sending starts; all stay open for the whole run.</summary>
    public int Connections { get; init; } = 1;

    /// <summary>Bytes per message. Every message is lowercase letters, so each echoed byte is checkable.</summary>
    public int MessageSize { get; init; } = 32;

    /// <summary>
    /// Messages a connection keeps in flight (pipelining): it sends this many, then one more for each
    /// echo that completes. 1 is request/response; more measures throughput rather than round trips.
    /// </summary>
    public int Depth { get; init; } = 1;

    /// <summary>Traffic before measuring starts: lets the server's and the runtime's caches and pools settle.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long echoes are counted and timed, after the warm-up.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Open loop: messages per second across all connections, sent on a fixed schedule whatever the
    /// server does, with latency measured from when each message should have been sent (so a stalled
    /// server cannot hide its stall by slowing the sender: no coordinated omission, as wrk2). Null:
    /// closed loop, each connection keeps <see cref="Depth"/> messages in flight.
    /// </summary>
    public double? Rate { get; init; }

    /// <summary>
    /// Scale mode (epoll generator only): every connection sends this many messages and no more; the
    /// warm-up lasts until each has its echoes (up to <see cref="ConnectTimeout"/>), then the
    /// connections stay open and idle for <see cref="Duration"/> (the "measured" window, in which a
    /// caller samples the server's memory), and the result's <see cref="LoadResult.AllEchoedAfter"/>
    /// says how long opening the set and one echo on each took. Null: keep sending until the window ends.
    /// </summary>
    public int? MessagesPerConnection { get; init; }

    /// <summary>
    /// Which generator drives the load. <see cref="LoadGeneratorKind.Auto"/>: dedicated threads over
    /// epoll on Linux (as cheap per message as a C client), the runtime's sockets elsewhere.
    /// </summary>
    public LoadGeneratorKind Generator { get; init; } = LoadGeneratorKind.Auto;

    /// <summary>
    /// Threads the epoll generator runs, each owning a share of the connections. Null: half the cores,
    /// at least one, so the server under test keeps the other half (on 2 cores: one thread, like the
    /// C client it is checked against). The sockets generator uses the runtime's threads instead.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>How long the whole set of connections may take to open.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Called (on the thread running the load, so keep it short) as the run moves from warm-up to the
    /// measured window to the end: a benchmark reads the server's CPU time exactly at these edges.
    /// </summary>
    public Action<LoadPhase>? PhaseChanged { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> for the first setting out of range, naming properties
    /// (<c>Depth times MessageSize must be ...</c>), never a front end's flags.
    /// </summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(EndPoint);
        Check(Connections is >= 1 and <= 100_000, nameof(Connections), "must be between 1 and 100000");
        Check(MessageSize is >= 1 and <= 1 << 20, nameof(MessageSize), "must be between 1 and 1048576 bytes");
        Check(Depth is >= 1 and <= 4096, nameof(Depth), "must be between 1 and 4096");
        Check((long)MessageSize * Depth <= 16 << 20, nameof(Depth), $"times {nameof(MessageSize)} must be at most 16 MiB in flight per connection");
        Check(Warmup >= TimeSpan.Zero, nameof(Warmup), "must not be negative");
        Check(Duration > TimeSpan.Zero, nameof(Duration), "must be positive");
        Check(Rate is null || (Rate > 0 && double.IsFinite(Rate.Value)), nameof(Rate), "must be a positive number of messages per second");
        Check(MessagesPerConnection is null or (>= 1 and <= 1_000_000), nameof(MessagesPerConnection), "must be between 1 and 1000000");
        Check(MessagesPerConnection is null || (OperatingSystem.IsLinux() && Generator != LoadGeneratorKind.Sockets), nameof(MessagesPerConnection),
            $"(a fixed number of messages per connection) needs the epoll load generator, so Linux and {nameof(Generator)} auto or epoll");
        Check(MessagesPerConnection is null || Rate is null, nameof(Rate), "does not combine with a fixed number of messages per connection");
        Check(Threads is null or (>= 1 and <= 256), nameof(Threads), "must be between 1 and 256");
        Check(Enum.IsDefined(Generator), nameof(Generator), "must be auto, epoll or sockets");
        Check(Generator != LoadGeneratorKind.Epoll || OperatingSystem.IsLinux(), nameof(Generator), "epoll needs Linux; use auto or sockets here");
        Check(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
    }

    private static void Check(bool condition, string option, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{option} {message}.", option);
        }
    }
}
