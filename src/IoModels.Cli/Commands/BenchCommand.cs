using System.CommandLine;
using System.Globalization;
using IoModels.Cli.Bench;
using IoModels.Load;
using Spectre.Console;

namespace IoModels.Cli.Commands;

/// <summary>
/// <c>iomodels bench</c>: every model side by side on this machine. Each model runs in its own child
/// <c>iomodels serve</c> process, a load generator in this process drives it over loopback and checks
/// every byte, and one table shows throughput, latency, CPU, threads and memory per model and load.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m")
        {
            Description = $"models to measure, comma-separated ({ModelRegistry.Names()}), or all; an entry may add serve options, as in 'epoll,epoll --edge-triggered' [default: all, or none with --target]",
        };
        var target = new Option<string?>("--target") { Description = "also measure an external echo server at HOST:PORT, with the same checks" };
        var label = new Option<string?>("--label") { Description = "the name of the --target server in the results [default: HOST:PORT]" };
        Option<int> targetPid = CommonOptions.Int("--target-pid", "the --target server's process ID, to read its CPU, threads and memory (0: unknown)", 0, 0, int.MaxValue);
        Option<int[]> connections = BenchOptions.IntList("--connections", "connections, comma-separated: one run per value (a sweep such as 1,10,100,1000 shows where the models part)", [100], 1, 100_000);
        Option<int[]> sizes = BenchOptions.IntList("--size", "message sizes in bytes, comma-separated: one run per value", [32], 1, 1 << 20);
        Option<int> depth = CommonOptions.Int("--depth", "messages each connection keeps in flight (pipelining)", 1, 1, 4096);
        Option<TimeSpan?> duration = CommonOptions.Duration("--duration", "measured time per run", TimeSpan.FromSeconds(5));
        Option<TimeSpan?> warmup = CommonOptions.Duration("--warmup", "load before measuring starts, per run", TimeSpan.FromSeconds(1), allowZero: true);
        Option<double?> rate = BenchOptions.Rate();
        Option<int[]> scale = BenchOptions.IntList("--scale",
            "also, per server: open this many connections at once, echo once on each, hold them idle, and report the time and the server's memory per idle connection (comma-separated)", [], 1, 100_000);
        Option<LoadGeneratorKind> generator = BenchOptions.Generator();
        Option<int> loadThreads = CommonOptions.Int("--load-threads", "threads the epoll load generator runs (0: half the cores, at least 1)", 0, 0, 256);
        Option<BenchFormat> format = BenchOptions.Format();
        var output = new Option<string?>("--output", "-o") { Description = "also write the results, with the machine and the command, to FILE (.json, .csv, else Markdown)" };
        var chart = new Option<string?>("--chart") { Description = "draw throughput and p99 latency against connections per model to FILE (.svg or .png)" };

        var command = new Command("bench", "Measure every model side by side: throughput, latency, CPU, threads and memory.")
        {
            model, target, label, targetPid, connections, sizes, depth, duration, warmup, rate, scale, generator, loadThreads, format, output, chart,
        };
        command.SetAction((result, cancellationToken) =>
        {
            string? targetText = result.GetValue(target);
            string? modelText = result.GetValue(model);
            int pid = result.GetValue(targetPid);
            var settings = new BenchSettings
            {
                Models = modelText is null && targetText is not null ? [] : BenchOptions.ParseServers(modelText ?? "all"),
                Target = targetText is null ? null : BenchOptions.ParseTarget(targetText),
                TargetLabel = result.GetValue(label),
                TargetPid = pid == 0 ? null : pid,
                Connections = result.GetValue(connections)!,
                Sizes = result.GetValue(sizes)!,
                Depth = result.GetValue(depth),
                Duration = result.GetValue(duration) ?? TimeSpan.FromSeconds(5),
                Warmup = result.GetValue(warmup) ?? TimeSpan.FromSeconds(1),
                Rate = result.GetValue(rate),
                Scale = result.GetValue(scale)!,
                Generator = result.GetValue(generator),
                LoadThreads = result.GetValue(loadThreads) is > 0 and int threads ? threads : null,
                Format = result.GetValue(format),
                OutputFile = result.GetValue(output),
                ChartFile = result.GetValue(chart),
                CommandLine = CurrentCommandLine(),
            };
            return RunAsync(settings, result.InvocationConfiguration.Output, Console.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs the grid, prints the results in the chosen format, writes the file and chart; non-zero if any byte came back wrong.</summary>
    public static async Task<int> RunAsync(BenchSettings settings, TextWriter output, TextWriter progress, CancellationToken cancellationToken)
    {
        if (settings.Models.Count == 0 && settings.Target is null)
        {
            throw new CliException(ExitCode.UsageError, "nothing to measure: name a --model or a --target");
        }

        if (settings.TargetPid is not null && settings.Target is null)
        {
            throw new CliException(ExitCode.UsageError, "--target-pid needs a --target");
        }

        var runner = new BenchRunner(settings);
        runner.CheckLoad(); // the load generator's own limits (depth x size, generator, scale), before any server starts

        // Checked before minutes of measuring, not after: a results file that cannot be written.
        CheckWritable("--output", settings.OutputFile);
        CheckWritable("--chart", settings.ChartFile);
        if (settings.ChartFile is { } chartFile && Path.GetExtension(chartFile).ToUpperInvariant() is not (".SVG" or ".PNG"))
        {
            throw new CliException(ExitCode.UsageError, $"--chart must name a .svg or .png file, not '{chartFile}'");
        }

        if (settings.TargetPid is { } targetPid && !IsRunning(targetPid))
        {
            throw new CliException(ExitCode.UsageError, $"--target-pid {targetPid} is not a running process");
        }

        IAnsiConsole progressConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(progress) });
        BenchReport report = await runner.RunAsync(progressConsole, cancellationToken);

        switch (settings.Format)
        {
            case BenchFormat.Table:
                IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
                if (!console.Profile.Capabilities.Interactive)
                {
                    console.Profile.Width = 240; // redirected: no terminal width to fit, so do not squeeze the columns
                }

                console.Write(BenchFormatter.Table(report));
                break;
            case BenchFormat.Markdown:
                await output.WriteAsync(BenchFormatter.Markdown(report));
                break;
            case BenchFormat.Csv:
                await output.WriteAsync(BenchFormatter.Csv(report));
                break;
            case BenchFormat.Json:
                await output.WriteAsync(BenchFormatter.Json(report));
                break;
        }

        await output.FlushAsync(cancellationToken);
        if (settings.OutputFile is { } file)
        {
            string text = Path.GetExtension(file).ToUpperInvariant() switch
            {
                ".JSON" => BenchFormatter.Json(report),
                ".CSV" => BenchFormatter.Csv(report),
                _ => BenchFormatter.Markdown(report),
            };
            await File.WriteAllTextAsync(file, text, cancellationToken);
        }

        if (settings.ChartFile is { } chart)
        {
            IReadOnlyList<string> charts = BenchChart.Save(report, chart);
            await progress.WriteLineAsync($"chart: {string.Join(", ", charts)}");
        }

        // The scale runs check every echoed byte too: a wrong byte there fails the run just the same.
        var wrong = report.Runs.Select(r => (r.Server, r.Mismatches)).Concat(report.Scale.Select(r => (r.Server, r.Mismatches))).Where(r => r.Mismatches > 0).ToArray();
        long mismatches = wrong.Sum(r => r.Mismatches);
        if (mismatches > 0)
        {
            string servers = string.Join(", ", wrong.Select(r => r.Server).Distinct());
            throw new CliException(ExitCode.Failure, $"{mismatches.ToString("N0", CultureInfo.InvariantCulture)} echoed bytes were wrong (from {servers}): not a correct uppercase echo");
        }

        return (int)ExitCode.Success;
    }

    private static void CheckWritable(string option, string? file)
    {
        if (file is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(file) || Directory.Exists(file))
        {
            throw new CliException(ExitCode.UsageError, $"{option} must name a file, not '{file}'");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new CliException(ExitCode.UsageError, $"{option} {file}: the directory {directory} does not exist");
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
    }

    /// <summary>The command as typed, for the record: <c>iomodels bench ...</c>, arguments quoted where needed.</summary>
    private static string CurrentCommandLine()
    {
        IEnumerable<string> args = Environment.GetCommandLineArgs().Skip(1)
            .Select(a => a.Length == 0 || a.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '$') ? $"'{a.Replace("'", "'\\''", StringComparison.Ordinal)}'" : a);
        return "iomodels " + string.Join(' ', args);
    }
}
