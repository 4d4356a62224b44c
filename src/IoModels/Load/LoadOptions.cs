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

    /// <summary>How long the whole set of connections may take to open.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Called (on the thread running the load, so keep it short) as the run moves from warm-up to the
    /// measured window to the end: a benchmark reads the server's CPU time exactly at these edges.
    /// </summary>
    public Action<LoadPhase>? PhaseChanged { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(EndPoint);
        Check(Connections is >= 1 and <= 100_000, "connections", "must be between 1 and 100000");
        Check(MessageSize is >= 1 and <= 1 << 20, "size", "must be between 1 and 1048576 bytes");
        Check(Depth is >= 1 and <= 4096, "depth", "must be between 1 and 4096");
        Check((long)MessageSize * Depth <= 16 << 20, "depth", "times --size must be at most 16 MiB in flight per connection");
        Check(Warmup >= TimeSpan.Zero, "warmup", "must not be negative");
        Check(Duration > TimeSpan.Zero, "duration", "must be positive");
        Check(Rate is null || (Rate > 0 && double.IsFinite(Rate.Value)), "rate", "must be a positive number of messages per second");
        Check(ConnectTimeout > TimeSpan.Zero, "connect-timeout", "must be positive");
    }

    private static void Check(bool condition, string option, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"--{option} {message}.", option);
        }
    }
}
