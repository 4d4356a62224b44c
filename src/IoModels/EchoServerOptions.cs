using System.Net;

namespace IoModels;

/// <summary>
/// How an engine listens and the limits it enforces. The common part applies to every model; the
/// tuning part at the end is read only by the models named on each property (each registry entry
/// declares its <see cref="EngineOption"/>s), and <see cref="ModelInfo.Create"/> refuses one set for
/// a model that does not read it rather than ignore it.
/// </summary>
public sealed record EchoServerOptions
{
    /// <summary>The default port, as in the source notes' blocking and non-blocking servers.</summary>
    public const int DefaultPort = 8099;

    /// <summary>Where to listen. Loopback by default: binding beyond it is a deliberate choice.</summary>
    public IPEndPoint EndPoint { get; init; } = new(IPAddress.Loopback, DefaultPort);

    /// <summary>
    /// Listen backlog. 4,096 rather than the classic 128 or 1,024: a burst of 10,000 connects
    /// overflows a small accept queue and the kernel's SYN retries add whole seconds (Linux caps
    /// the value at net.core.somaxconn, 4,096 by default since 5.4).
    /// </summary>
    public int Backlog { get; init; } = 4096;

    /// <summary>
    /// Bytes read per receive call. 16 KiB: large enough that a bulk sender needs few calls, small
    /// enough that a blocking thread or an idle async connection does not hold much.
    /// </summary>
    public int BufferSize { get; init; } = 16 * 1024;

    /// <summary>
    /// The most bytes a connection may hold received-but-not-yet-echoed. When a client stops reading,
    /// the engine stops reading it at this bound, so memory stays flat (backpressure). 64 KiB: a few
    /// receive buffers' worth, roughly one TCP window.
    /// </summary>
    public int OutputBufferLimit { get; init; } = 64 * 1024;

    /// <summary>Connections served at once; one more is accepted and closed at once (counted as rejected).</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>A connection that neither sends nor receives for this long is closed. Null: never.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>
    /// How long stop waits for connections to drain (echoes sent, FIN, the client closes) before it
    /// resets what is left. 5 s: a few round trips of a slow link and a 64 KiB buffer at modest rates,
    /// short enough that Ctrl+C still feels prompt. Zero cuts every connection at once.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the engine logs. Defaults to a logger that drops everything.</summary>
    public Serilog.ILogger Logger { get; init; } = Serilog.Core.Logger.None;

    // ---- Tuning read by particular models ----

    /// <summary><c>blocking</c>: a fixed pool of this many threads instead of one thread per connection. 0: no pool.</summary>
    public int Workers { get; init; }

    /// <summary><c>nonblocking</c>: sleep this long after a sweep that found nothing to do. Zero spins.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.Zero;

    /// <summary><c>select</c>: the timeout of each Socket.Select call (500 ms, as in the source notes).</summary>
    public TimeSpan SelectTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary><c>epoll</c>: edge-triggered instead of level-triggered notification.</summary>
    public bool EdgeTriggered { get; init; }

    /// <summary><c>epoll</c>, <c>uring</c>: the number of event loops (threads), each with its own kernel queue.</summary>
    public int Loops { get; init; } = 1;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> for the first option out of range. The message names the
    /// property (<c>OutputBufferLimit must be at least BufferSize.</c>), as <see cref="ArgumentException.ParamName"/>
    /// does, and never a front end's spelling of it: a command line maps the names to its own flags.
    /// </summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(EndPoint);
        ArgumentNullException.ThrowIfNull(Logger);
        Check(EndPoint.Port is >= 0 and <= 65535, "EndPoint.Port", "must be between 0 and 65535");
        Check(Backlog >= 1, nameof(Backlog), "must be at least 1");
        Check(BufferSize is >= 1 and <= 16 * 1024 * 1024, nameof(BufferSize), "must be between 1 and 16777216 bytes");
        Check(OutputBufferLimit >= BufferSize, nameof(OutputBufferLimit), $"must be at least {nameof(BufferSize)}");
        Check(MaxConnections >= 1, nameof(MaxConnections), "must be at least 1");
        Check(IdleTimeout is null || IdleTimeout > TimeSpan.Zero, nameof(IdleTimeout), "must be positive");
        Check(DrainTimeout >= TimeSpan.Zero, nameof(DrainTimeout), "must not be negative");
        Check(Workers >= 0, nameof(Workers), "must be 0 (thread per connection) or more");
        Check(PollInterval >= TimeSpan.Zero, nameof(PollInterval), "must not be negative");
        Check(SelectTimeout > TimeSpan.Zero, nameof(SelectTimeout), "must be positive");
        Check(Loops >= 1, nameof(Loops), "must be at least 1");
    }

    private static void Check(bool condition, string option, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{option} {message}.", option);
        }
    }
}
