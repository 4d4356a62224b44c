namespace IoModels;

/// <summary>
/// A tuning option that only some models take. A registry entry lists the ones its engine reads
/// (<c>ModelInfo.Options</c>); a front end offers each once, says which models take it, and
/// refuses it for a model that does not. An option whose every unit creates something the process
/// has a limited number of (a thread per worker; a thread, a kernel queue and a listener per loop)
/// declares that cost in <see cref="PerUnit"/>, so its value can be bounded by
/// <see cref="ProcessLimits"/> before anything is created.
/// </summary>
public sealed class EngineOption
{
    private readonly Func<EchoServerOptions, object>? _read;

    private EngineOption(string name, EngineOptionKind kind, string description, Func<EchoServerOptions, object>? read,
        int minimum = 0, int maximum = 0, ResourceCost? perUnit = null, bool allowsZero = false)
    {
        Name = name;
        Kind = kind;
        Description = description;
        _read = read;
        Minimum = minimum;
        Maximum = maximum;
        PerUnit = perUnit;
        AllowsZero = allowsZero;
    }

    /// <summary><c>blocking</c>: a fixed pool of threads.</summary>
    public static EngineOption Workers { get; } = new(nameof(EchoServerOptions.Workers), EngineOptionKind.Count,
        "a fixed pool of N threads instead of one per connection (0: no pool)", o => o.Workers, 0, 100_000, new ResourceCost(Threads: 1));

    /// <summary><c>nonblocking</c>: the sleep after an idle sweep.</summary>
    public static EngineOption PollInterval { get; } = new(nameof(EchoServerOptions.PollInterval), EngineOptionKind.Duration,
        "sleep between sweeps that found nothing to do", o => o.PollInterval, allowsZero: true);

    /// <summary><c>select</c>: the timeout of each Socket.Select call.</summary>
    public static EngineOption SelectTimeout { get; } = new(nameof(EchoServerOptions.SelectTimeout), EngineOptionKind.Duration,
        "timeout of each Socket.Select call", o => o.SelectTimeout);

    /// <summary><c>epoll</c>: edge-triggered notification.</summary>
    public static EngineOption EdgeTriggered { get; } = new(nameof(EchoServerOptions.EdgeTriggered), EngineOptionKind.Switch,
        "edge-triggered instead of level-triggered notification", o => o.EdgeTriggered);

    /// <summary>
    /// <c>epoll</c>, <c>uring</c>: event loops. Each is a thread and three descriptors (its listener, its
    /// epoll or io_uring descriptor, the eventfd that wakes it); a ring also maps up to three regions.
    /// </summary>
    public static EngineOption Loops { get; } = new(nameof(EchoServerOptions.Loops), EngineOptionKind.Count,
        "event loops (threads), each with its own kernel queue", o => o.Loops, 1, 256, new ResourceCost(Threads: 1, Descriptors: 3, Mappings: 3));

    /// <summary>
    /// <c>async</c>: continuations on the runtime's socket engine thread. A switch of the runtime for the
    /// whole process, read when its socket engine first starts, so it is not in <see cref="EchoServerOptions"/>:
    /// the host sets it before the first socket operation.
    /// </summary>
    public static EngineOption InlineCompletions { get; } = new("InlineCompletions", EngineOptionKind.Switch,
        "run each continuation on the runtime's socket engine thread instead of a pool thread (fewer thread hops and less CPU per message; one slow continuation delays every socket on that thread)",
        read: null);

    /// <summary>Every option some model takes, in the order a help text lists them.</summary>
    public static IReadOnlyList<EngineOption> All { get; } = [Workers, PollInterval, SelectTimeout, EdgeTriggered, Loops, InlineCompletions];

    /// <summary>The option's name: the <see cref="EchoServerOptions"/> property it sets, or the concept for a process-wide one.</summary>
    public string Name { get; }

    public EngineOptionKind Kind { get; }

    /// <summary>What the option does, in a phrase (no model names: those come from the registry).</summary>
    public string Description { get; }

    /// <summary>The smallest value a <see cref="EngineOptionKind.Count"/> takes.</summary>
    public int Minimum { get; }

    /// <summary>The largest value a <see cref="EngineOptionKind.Count"/> takes on any machine; <see cref="BeyondLimit"/> may refuse less.</summary>
    public int Maximum { get; }

    /// <summary>For a <see cref="EngineOptionKind.Duration"/>: zero is a value (no sleep at all), not only positive lengths.</summary>
    public bool AllowsZero { get; }

    /// <summary>What one unit of a <see cref="EngineOptionKind.Count"/> creates, or null when it creates nothing limited.</summary>
    public ResourceCost? PerUnit { get; }

    /// <summary>The value in <see cref="EchoServerOptions"/> by default, or null for a process-wide option.</summary>
    public object? DefaultValue => _read?.Invoke(new EchoServerOptions());

    /// <summary>True when <paramref name="options"/> sets this option to something other than its default.</summary>
    public bool IsSetIn(EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _read is not null && !Equals(_read(options), DefaultValue);
    }

    /// <summary>The value <paramref name="options"/> gives a <see cref="EngineOptionKind.Count"/> option.</summary>
    public int CountIn(EchoServerOptions options) =>
        Kind == EngineOptionKind.Count && _read is not null ? (int)_read(options) : throw new InvalidOperationException($"{Name} is not a count.");

    /// <summary>
    /// Why <paramref name="value"/> units are more than the process can have, as a phrase to follow the
    /// option's name ("is more than this process can have: at most 15,770 (vm.max_map_count ...)"), or
    /// null when it fits or nothing bounds it (the option creates nothing limited, or this OS's limits are
    /// not read: see <see cref="ProcessLimits"/>). The default is never refused here: it is what runs
    /// without the option, and a process that cannot afford even that fails at start-up, not here.
    /// </summary>
    public string? BeyondLimit(int value, ProcessLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (PerUnit is not { } cost || Kind != EngineOptionKind.Count || value <= (int)DefaultValue! || limits.MaxUnits(cost) is not { } bound)
        {
            return null;
        }

        return value <= bound.Max ? null
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"is more than this process can have: at most {bound.Max:N0} ({bound.Source})");
    }

    public override string ToString() => Name;
}
