namespace IoModels;

/// <summary>
/// One entry of the registry: what the CLI lists, what <c>serve --model</c> starts, what the
/// conformance suite runs.
/// </summary>
public sealed class ModelInfo
{
    private readonly Func<EchoServerOptions, IEchoServer> _factory;
    private readonly Func<EchoServerOptions, int> _maxClients;

    public ModelInfo(string name, string summary, Func<EchoServerOptions, IEchoServer> factory,
        IReadOnlyList<EchoCounter> keyCounters, string? unsupportedReason = null, string? mechanism = null,
        IReadOnlyList<EngineOption>? options = null, IReadOnlyList<string>? platforms = null, Func<EchoServerOptions, int>? maxClients = null,
        Version? minimumKernel = null)
    {
        Name = name;
        Summary = summary;
        _factory = factory;
        KeyCounters = keyCounters;
        UnsupportedReason = unsupportedReason;
        Mechanism = mechanism;
        Options = options ?? [];
        Platforms = platforms ?? EveryPlatform;
        MinimumKernel = minimumKernel;
        _maxClients = maxClients ?? (o => o.MaxConnections);
    }

    /// <summary>The systems a model runs on when it names none: what .NET's own sockets cover, as the explain texts state them.</summary>
    public static IReadOnlyList<string> EveryPlatform { get; } = ["Linux", "macOS", "Windows"];

    /// <summary>The name used on the command line, e.g. <c>select</c>.</summary>
    public string Name { get; }

    /// <summary>One line: what the engine does.</summary>
    public string Summary { get; }

    /// <summary>
    /// The counters this model publishes beyond the ones every engine keeps (connections, bytes): those
    /// that show its cost, in the order a class should read them.
    /// </summary>
    public IReadOnlyList<EchoCounter> KeyCounters { get; }

    /// <summary>Why this OS cannot run the model, or null when it can.</summary>
    public string? UnsupportedReason { get; }

    /// <summary>The OS facility this model uses here, when that varies by OS (epoll or kqueue).</summary>
    public string? Mechanism { get; }

    /// <summary>
    /// The model-specific options its engine reads; every other <see cref="EngineOption"/> it does not
    /// take (a worker pool means nothing to an event loop). The options every engine reads (endpoint,
    /// buffers, limits) are not listed.
    /// </summary>
    public IReadOnlyList<EngineOption> Options { get; }

    /// <summary>
    /// The operating systems the engine is written for ("Linux", "macOS", "FreeBSD", "Windows", names
    /// <see cref="OperatingSystem.IsOSPlatform"/> takes), as the explain texts state them. On one of
    /// them it may still be unavailable (io_uring needs a recent kernel): <see cref="UnsupportedReason"/> says.
    /// </summary>
    public IReadOnlyList<string> Platforms { get; }

    /// <summary>The oldest Linux kernel the engine runs on, when it needs a recent one (uring); else null.</summary>
    public Version? MinimumKernel { get; }

    public bool IsSupported => UnsupportedReason is null;

    /// <summary>
    /// How many clients the engine serves at once with <paramref name="options"/>: the connection limit,
    /// or less where the model itself stops sooner (a pool of N workers serves N; select's lists hold
    /// 65,535 connections). Clients beyond it wait or are refused, as the model says.
    /// </summary>
    public int MaxClients(EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _maxClients(options);
    }

    /// <summary>True when this model's engine reads <paramref name="option"/>.</summary>
    public bool Takes(EngineOption option) => Options.Contains(option);

    /// <summary>Creates an engine (not yet started), once <see cref="Validate"/> has accepted the options.</summary>
    /// <exception cref="PlatformNotSupportedException">This OS cannot run the model.</exception>
    /// <exception cref="ArgumentException">See <see cref="Validate"/>.</exception>
    public IEchoServer Create(EchoServerOptions options)
    {
        if (UnsupportedReason is not null)
        {
            throw new PlatformNotSupportedException($"The {Name} model is not available here: {UnsupportedReason}");
        }

        Validate(options);
        return _factory(options);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming the property, as <see cref="EchoServerOptions.Validate"/>
    /// does) when <paramref name="options"/> are out of range, set an option this model does not take, or
    /// ask for more units of one (workers, loops) than <see cref="ProcessLimits"/> says the process can have.
    /// </summary>
    public void Validate(EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        // Silently ignoring an option is how a user believes they measured a variant they did not run.
        if (EngineOption.All.FirstOrDefault(o => o.IsSetIn(options) && !Takes(o)) is { } ignored)
        {
            throw new ArgumentException(
                $"{ignored.Name} applies to the {ModelRegistry.NamesTaking(ignored)} model only; the {Name} model does not take it.", ignored.Name);
        }

        // A thread per worker past what the process can map kills it part way; refuse before the first one.
        if (Options.Where(o => o.IsSetIn(options) && o.PerUnit is not null).ToArray() is { Length: > 0 } bounded)
        {
            ProcessLimits limits = ProcessLimits.Read();
            foreach (EngineOption option in bounded)
            {
                int value = option.CountIn(options);
                if (option.BeyondLimit(value, limits) is { } beyond)
                {
                    throw new ArgumentException($"{option.Name} {value} {beyond}.", option.Name);
                }
            }
        }
    }

    public override string ToString() => Name;
}
