using System.Globalization;
using System.Net;
using IoModels.Cli.Commands;

namespace IoModels.Tests.Conformance;

/// <summary>
/// One engine configuration the conformance suite runs: a registry model as it comes, or a variant of
/// it (a worker pool, edge-triggered mode, several loops). <see cref="MaxConcurrentClients"/> is the
/// registry's capability for these options: tests that need more clients at once skip with a reason.
/// </summary>
public sealed record EngineCase(string Name, string Model, Func<EchoServerOptions, EchoServerOptions> Configure)
{
    /// <summary>How many clients this variant serves at once, as its registry entry declares.</summary>
    public int MaxConcurrentClients => ModelRegistry.Find(Model)!.MaxClients(EngineCases.OptionsFor(this));

    public override string ToString() => Name;
}

/// <summary>
/// Every case the suite runs: each model in <see cref="ModelRegistry"/>, automatically, plus the
/// variants listed here. A new engine is covered by adding it to the registry.
/// </summary>
public static class EngineCases
{
    private static readonly EngineCase[] s_variants =
    [
        // A pool of 8 threads: enough for most tests; more clients than that wait, as the model says.
        new("blocking-pool", "blocking", o => o with { Workers = 8 }),
        // The sweep that sleeps 1 ms after finding nothing to do, instead of spinning: same contract.
        new("nonblocking-sleep", "nonblocking", o => o with { PollInterval = TimeSpan.FromMilliseconds(1) }),
        // Edge-triggered epoll: read and accept until EAGAIN, remember what backpressure left unread.
        new("epoll-et", "epoll", o => o with { EdgeTriggered = true }),
        // Two event loops (SO_REUSEPORT listeners on Linux, round-robin handover with kqueue).
        new("epoll-loops2", "epoll", o => o with { Loops = 2 }),
        // Two rings on two threads, each with its own SO_REUSEPORT listener.
        new("uring-loops2", "uring", o => o with { Loops = 2 }),
    ];

    public static IReadOnlyList<EngineCase> All { get; } =
    [
        .. ModelRegistry.All.Select(m => new EngineCase(m.Name, m.Name, o => o)),
        .. s_variants,
    ];

    /// <summary>The case names, as theory data: each shows as its own test.</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (EngineCase engine in All)
            {
                data.Add(engine.Name);
            }

            return data;
        }
    }

    public static EngineCase Get(string name) => All.Single(c => c.Name == name);

    /// <summary>
    /// The <c>serve</c> arguments that run <paramref name="engine"/> as a user would type them: the model,
    /// then a flag for each option the case sets (flag names from the CLI's own <see cref="ModelFlags"/>),
    /// so a child-process test runs every variant without a second list to keep in step with this one.
    /// </summary>
    public static string[] ServeArguments(EngineCase engine)
    {
        EchoServerOptions options = OptionsFor(engine);
        var arguments = new List<string> { "--model", engine.Model };
        foreach (EngineOption option in EngineOption.All.Where(o => o.IsSetIn(options)))
        {
            arguments.Add(ModelFlags.FlagName(option));
            object value = typeof(EchoServerOptions).GetProperty(option.Name)!.GetValue(options)!;
            switch (option.Kind)
            {
                case EngineOptionKind.Count:
                    arguments.Add(Convert.ToString(value, CultureInfo.InvariantCulture)!);
                    break;
                case EngineOptionKind.Duration:
                    arguments.Add(string.Create(CultureInfo.InvariantCulture, $"{((TimeSpan)value).TotalMilliseconds}ms"));
                    break;
                case EngineOptionKind.Switch:
                    break;
                default:
                    throw new InvalidOperationException($"{engine.Name} sets {option.Name}, of a kind ({option.Kind}) with no serve spelling here: add one");
            }
        }

        if (engine.Name != engine.Model && arguments.Count == 2)
        {
            // A variant whose setting has no registry option would otherwise run as its plain model, under its own name.
            throw new InvalidOperationException($"{engine.Name} sets nothing serve can spell: give its setting a registry option (EngineOption) or leave it out of child-process tests");
        }

        return [.. arguments];
    }

    /// <summary>Options for a test server: loopback, port 0, then the case's own tuning.</summary>
    public static EchoServerOptions OptionsFor(EngineCase engine, Func<EchoServerOptions, EchoServerOptions>? adjust = null)
    {
        var options = new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options = engine.Configure(options);
        return adjust is null ? options : adjust(options);
    }
}
