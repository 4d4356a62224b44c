using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace IoModels.Cli.Demos;

/// <summary>
/// What a scenario gets to work with: where to narrate, how big to be, and helpers to start servers
/// from the registry on loopback and to read the process's CPU and memory.
/// </summary>
internal sealed class DemoContext
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public DemoContext(TextWriter output, double scale, string language = "en")
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        Output = output;
        Scale = scale;
        Language = language;
    }

    public TextWriter Output { get; }

    /// <summary>The narration's language, en or zh (<c>--lang</c>).</summary>
    public string Language { get; }

    /// <summary>True when the narration is in Chinese.</summary>
    public bool Chinese => Language == "zh";

    /// <summary>1 runs the scenario at full size; smaller values shrink client counts and durations (for tests).</summary>
    public double Scale { get; }

    /// <summary>Starts the narration's clock again: at the run, not when the question was asked (the class may think for a minute).</summary>
    public void StartClock() => _clock.Restart();

    /// <summary>
    /// One narration step, stamped with the seconds since the scenario began, wrapped to the
    /// projector's 100 columns with later lines indented under the text.
    /// </summary>
    public void Say(string text)
    {
        string stamp = string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.00}s] ");
        foreach (string line in TerminalText.Wrap(stamp, text))
        {
            Output.WriteLine(line);
        }
    }

    /// <summary>A count scaled down, but never below <paramref name="minimum"/>.</summary>
    public int Count(int full, int minimum) => Math.Max(minimum, (int)Math.Round(full * Scale));

    /// <summary>A duration scaled down, but never below <paramref name="minimum"/>.</summary>
    public TimeSpan Duration(TimeSpan full, TimeSpan minimum) => TimeSpan.FromTicks(Math.Max(minimum.Ticks, (long)(full.Ticks * Scale)));

    /// <summary>The registry entry for <paramref name="name"/>; one clear line when this build or this OS lacks it.</summary>
    public static ModelInfo RequireModel(string name)
    {
        ModelInfo? model = ModelRegistry.Find(name);
        if (model is null)
        {
            throw new CliException(ExitCode.ModelUnavailable, $"the {name} model is not in this build");
        }

        if (!model.IsSupported)
        {
            throw new CliException(ExitCode.ModelUnavailable, $"the {name} model is not available on this OS ({model.UnsupportedReason})");
        }

        return model;
    }

    /// <summary>Starts <paramref name="model"/> on 127.0.0.1 with a port the OS chooses; quiet (the narration is the output).</summary>
    public static IEchoServer StartServer(ModelInfo model, Func<EchoServerOptions, EchoServerOptions>? configure = null)
    {
        var options = new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        IEchoServer server = model.Create(configure is null ? options : configure(options));
        server.Start();
        return server;
    }

    /// <summary>This process's CPU time so far (every thread: engine, runtime and the demo's clients).</summary>
    public static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>This process's threads now, as the OS counts them.</summary>
    public static int ProcessThreads()
    {
        using var process = Process.GetCurrentProcess();
        return process.Threads.Count;
    }

    /// <summary>This process's working set (resident memory) in MiB.</summary>
    public static double WorkingSetMiB()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>Memory held by managed objects now, in MiB, after a full collection so garbage does not count.</summary>
    public static double ManagedHeapMiB() => GC.GetTotalMemory(forceFullCollection: true) / (1024.0 * 1024.0);

    /// <summary>Formats a number for a narration line, invariant culture.</summary>
    public static string F(double value, string format = "0.##") => value.ToString(format, CultureInfo.InvariantCulture);
}
