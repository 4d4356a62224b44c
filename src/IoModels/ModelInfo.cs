namespace IoModels;

/// <summary>
/// One entry of the registry: what the CLI lists, what <c>serve --model</c> starts, what the
/// conformance suite runs.
/// </summary>
public sealed class ModelInfo
{
    private readonly Func<EchoServerOptions, IEchoServer> _factory;

    public ModelInfo(string name, string summary, Func<EchoServerOptions, IEchoServer> factory,
        IReadOnlyList<EchoCounter> keyCounters, string? unsupportedReason = null, string? mechanism = null)
    {
        Name = name;
        Summary = summary;
        _factory = factory;
        KeyCounters = keyCounters;
        UnsupportedReason = unsupportedReason;
        Mechanism = mechanism;
    }

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
