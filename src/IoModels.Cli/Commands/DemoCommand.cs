using System.CommandLine;
using System.Globalization;
using IoModels.Cli.Demos;
using IoModels.Cli.Explain;

namespace IoModels.Cli.Commands;

/// <summary><c>iomodels demo [SCENARIO] [--lang en|zh]</c>: list the scripted lessons, or run one and print its conclusion if the run measured it.</summary>
internal static class DemoCommand
{
    /// <summary>
    /// Every scenario ends within this, whatever the machine: 30 s. A scenario that needs longer is
    /// stuck (a client never answered), and says so rather than hanging a class.
    /// </summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var scenario = new Argument<string?>("scenario")
        {
            Description = "the scenario to run; without one, the list",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var scale = new Option<double>("--scale")
        {
            Description = "shrink client counts and durations by this factor, e.g. 0.1 (for slow machines and tests)",
            DefaultValueFactory = _ => 1.0,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 && value <= 1)
                {
                    return value;
                }

                result.AddError($"--scale must be a number above 0 and at most 1, such as 0.1, not '{text}'");
                return 1.0;
            },
        };
        Option<string?> language = CommonOptions.Language();
        var command = new Command("demo", "Run a scripted lesson: a server and loopback clients in this process, narrated, with measured numbers.")
        {
            scenario, scale, language,
        };
        command.SetAction((result, cancellationToken) =>
        {
            TextWriter output = result.InvocationConfiguration.Output;
            // Wait for Enter only with a person at a terminal: never when piped, redirected or under CI.
            bool person = ReferenceEquals(output, Console.Out)
                && WaitsForEnter(Console.IsInputRedirected, Console.IsOutputRedirected, Environment.GetEnvironmentVariable("CI"));
            return RunAsync(result.GetValue(scenario), result.GetValue(scale), output, cancellationToken,
                result.GetValue(language) ?? ExplainTexts.DefaultLanguage(CultureInfo.CurrentUICulture), person ? Console.In : null);
        });
        return command;
    }

    /// <summary>
    /// Predict, then measure: the demo pauses after its question only when stdin and stdout are both a terminal
    /// and the CI variable is unset or empty, so a class can think, and a pipe or a CI job never hangs.
    /// </summary>
    internal static bool WaitsForEnter(bool inputRedirected, bool outputRedirected, string? ci) =>
        !inputRedirected && !outputRedirected && string.IsNullOrEmpty(ci);

    /// <summary>
    /// Runs <paramref name="name"/>: its question, how to watch it with the OS, a pause for Enter when
    /// <paramref name="enter"/> is given, the narrated run, the conclusion if measured, and the measured answer.
    /// </summary>
    public static async Task<int> RunAsync(string? name, double scale, TextWriter output, CancellationToken cancellationToken, string language = "en",
        TextReader? enter = null)
    {
        bool zh = language == "zh";
        if (string.IsNullOrEmpty(name))
        {
            await List(output, language);
            return (int)ExitCode.Success;
        }

        IDemoScenario scenario = DemoCatalog.Find(name)
            ?? throw new CliException(ExitCode.UsageError, $"unknown scenario '{name}'; the scenarios are: {string.Join(", ", DemoCatalog.All.Select(d => d.Name))}");
        foreach (string model in scenario.Models)
        {
            DemoContext.RequireModel(model); // before any narration: a missing engine is one line, nothing else
        }

        await output.WriteLineAsync($"{scenario.Name}: {scenario.Title(language)}");
        var context = new DemoContext(output, scale, language);
        await WriteWrappedAsync(output, zh ? "先猜一猜：" : "Predict: ", scenario.Question(context));
        await output.WriteLineAsync(zh
            ? $"想用操作系统自己的工具看，就在另一个终端里运行（Linux；本进程 PID {Environment.ProcessId}）："
            : $"To watch it with the OS, run in another terminal (Linux; this process is PID {Environment.ProcessId}):");
        foreach (string line in scenario.Verify(Environment.ProcessId, language))
        {
            await output.WriteLineAsync("  " + line);
        }

        if (enter is not null)
        {
            await output.WriteLineAsync(zh ? "想好了就按回车开始。" : "Press Enter to run it.");
            await output.FlushAsync(cancellationToken);
            await enter.ReadLineAsync(cancellationToken);
        }

        context.StartClock(); // "[  0.05s]" for the first step, however long the class took to answer
        DemoResult result = await RunScenarioAsync(scenario, context, cancellationToken);
        await output.WriteLineAsync();
        if (result.Conclusion is { } conclusion)
        {
            await WriteWrappedAsync(output, zh ? "结论：" : "Conclusion: ", conclusion);
        }
        else
        {
            // Nothing is concluded that this run did not measure: say what it measured instead.
            await WriteWrappedAsync(output, zh ? "没有结论：" : "No conclusion: ", zh
                ? "这次运行没有测出这个演示要说明的现象（" + string.Join("；", result.Failures) + "）。"
                : "this run did not show what the demo is about (" + string.Join("; ", result.Failures) + ").");
            await output.WriteLineAsync(zh ? "请在更空闲的机器上再运行一次，或者用更大的 --scale。" : "Run it again on a quieter machine, or with a larger --scale.");
        }

        await WriteWrappedAsync(output, zh ? "答案（实测）：" : "Answer (measured): ", scenario.Answer(result.Numbers, language));
        await output.FlushAsync(cancellationToken);
        return (int)(result.Conclusion is null ? ExitCode.Failure : ExitCode.Success);
    }

    /// <summary>A labelled paragraph ("Conclusion: ..."), wrapped to the projector's width under its label.</summary>
    private static async Task WriteWrappedAsync(TextWriter output, string label, string text)
    {
        foreach (string line in TerminalText.Wrap(label, text))
        {
            await output.WriteLineAsync(line);
        }
    }

    /// <summary>Runs <paramref name="scenario"/> under the <see cref="Deadline"/>; tests call this directly.</summary>
    internal static async Task<DemoResult> RunScenarioAsync(IDemoScenario scenario, DemoContext context, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Deadline);
        try
        {
            return await scenario.RunAsync(context, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCode.Failure, $"the {scenario.Name} demo did not finish within {Deadline.TotalSeconds:0} s; try a smaller --scale");
        }
    }

    private static async Task List(TextWriter output, string language)
    {
        bool zh = language == "zh";
        int width = DemoCatalog.All.Max(d => d.Name.Length);
        foreach (IDemoScenario scenario in DemoCatalog.All)
        {
            string[] missing = [.. scenario.Models.Where(m => ModelRegistry.Find(m) is null)];
            string[] unsupported = [.. scenario.Models.Where(m => ModelRegistry.Find(m) is { IsSupported: false })];
            string note = missing.Length > 0
                ? zh ? $"（需要 {string.Join("、", missing)}：这个版本没有）" : $" (needs {string.Join(", ", missing)}: not in this build)"
                : unsupported.Length > 0
                    ? zh ? $"（需要 {string.Join("、", unsupported)}：此操作系统上不可用）" : $" (needs {string.Join(", ", unsupported)}: not available on this OS)"
                    : string.Empty;
            await output.WriteLineAsync($"{scenario.Name.PadRight(width)}  {scenario.Title(language)}{note}");
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync(zh ? "运行其中一个：iomodels demo NAME [--scale 0.1] [--lang zh]" : "Run one with: iomodels demo NAME [--scale 0.1] [--lang zh]");
    }
}
