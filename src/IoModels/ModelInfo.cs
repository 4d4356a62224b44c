namespace IoModels;

/// <summary>
/// One entry of the registry: what the CLI lists, what <c>serve --model</c> starts, what the
/// conformance suite runs.
/// </summary>
public sealed class ModelInfo
{
    private readonly Func<EchoServerOptions, IEchoServer> _factory;

    public ModelInfo(string name, string summary, Func<EchoServerOptions, IEchoServer> factory,
        IReadOnlyList<EchoCounter> keyCounters, string? unsupportedReason = null, string? mechanism = null,
        IReadOnlyList<string>? platforms = null, Version? minimumKernel = null)
    {
        Name = name;
        Summary = summary;
        _factory = factory;
        KeyCounters = keyCounters;
        UnsupportedReason = unsupportedReason;
        Mechanism = mechanism;
        Platforms = platforms ?? EveryPlatform;
        MinimumKernel = minimumKernel;
    }

    /// <summary>The systems a model runs on when it names none: what .NET's own sockets cover.</summary>
    public static IReadOnlyList<string> EveryPlatform { get; } = ["Linux", "macOS", "Windows"];

    /// <summary>The name used on the command line, e.g. <c>select</c>.</summary>
    public string Name { get; }

    /// <summary>One line: what the engine does.</summary>
    public string Summary { get; }

    /// <summary>The counters that show this model's cost, in the order a class should read them.</summary>
    public IReadOnlyList<EchoCounter> KeyCounters { get; }

    /// <summary>Why this OS cannot run the model, or null when it can.</summary>
    public string? UnsupportedReason { get; }

    /// <summary>The OS facility this model uses here, when that varies by OS (epoll or kqueue).</summary>
    public string? Mechanism { get; }

    /// <summary>
    /// The operating systems the engine is written for ("Linux", "macOS", "FreeBSD", "Windows"), as the
    /// explain texts state them; <see cref="UnsupportedReason"/> says whether this machine is one of them.
    /// </summary>
    public IReadOnlyList<string> Platforms { get; }

    /// <summary>The oldest Linux kernel the engine runs on, when it needs a recent one (uring); else null.</summary>
    public Version? MinimumKernel { get; }

    public bool IsSupported => UnsupportedReason is null;

    /// <summary>Creates an engine (not yet started).</summary>
    /// <exception cref="PlatformNotSupportedException">This OS cannot run the model.</exception>
    public IEchoServer Create(EchoServerOptions options)
    {
        if (UnsupportedReason is not null)
        {
            throw new PlatformNotSupportedException($"The {Name} model is not available here: {UnsupportedReason}");
        }

        return _factory(options);
    }

    public override string ToString() => Name;
}
