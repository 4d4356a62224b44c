using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Serilog;
using Serilog.Events;

namespace IoModels.Cli.Commands;

/// <summary>What <c>iomodels serve</c> was asked to do, parsed and ready (testable without the parser).</summary>
internal sealed record ServeSettings
{
    public string Model { get; init; } = ModelRegistry.DefaultModel;
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = EchoServerOptions.DefaultPort;
    public int Backlog { get; init; } = new EchoServerOptions().Backlog;
    public int BufferSize { get; init; } = new EchoServerOptions().BufferSize;
    public int OutputBuffer { get; init; } = new EchoServerOptions().OutputBufferLimit;
    public int MaxConnections { get; init; } = new EchoServerOptions().MaxConnections;
    public TimeSpan? IdleTimeout { get; init; }
    public TimeSpan DrainTimeout { get; init; } = new EchoServerOptions().DrainTimeout;
    public TimeSpan? StatsInterval { get; init; }
    public int Workers { get; init; }
    public TimeSpan PollInterval { get; init; }
    public TimeSpan SelectTimeout { get; init; } = new EchoServerOptions().SelectTimeout;
    public bool EdgeTriggered { get; init; }
    public bool InlineCompletions { get; init; }
    public int Loops { get; init; } = 1;
    public LogEventLevel LogLevel { get; init; } = LogEventLevel.Information;
    public bool Dashboard { get; init; }
    public bool Trace { get; init; }
    public string? PortFile { get; init; }
}

/// <summary><c>iomodels serve</c>: run one model's echo server until Ctrl+C, then print its statistics.</summary>
internal static class ServeCommand
{
    /// <param name="worker">What runs the parsed settings: <see cref="RunAsync"/>, or a test's stand-in.</param>
    public static Command Create(Func<ServeSettings, TextWriter, ILogger, CancellationToken, Task<int>>? worker = null)
    {
        EchoServerOptions defaults = new();
        var model = new Option<string>("--model", "-m")
        {
            Description = $"the IO model: {ModelRegistry.Names()}",
            DefaultValueFactory = _ => ModelRegistry.DefaultModel,
        };
        Option<string> host = CommonOptions.Host("address to listen on; anything but loopback exposes the server and is warned about");
        Option<int> port = CommonOptions.Port();
        Option<int> backlog = CommonOptions.Int("--backlog", "listen backlog (the kernel caps it at net.core.somaxconn)", defaults.Backlog, 1, 1 << 20);
        Option<int> bufferSize = CommonOptions.Int("--buffer-size", "bytes read per receive call", defaults.BufferSize, 1, 16 << 20);
        Option<int> outputBuffer = CommonOptions.Int("--output-buffer", "bytes a connection may hold unsent before the server stops reading it", defaults.OutputBufferLimit, 1, 256 << 20);
        Option<int> maxConnections = CommonOptions.Int("--max-connections", "connections served at once; more are accepted and closed", defaults.MaxConnections, 1, 1 << 24);
        Option<TimeSpan?> idleTimeout = CommonOptions.Duration("--idle-timeout", "close a connection silent for this long [default: never]", null);
        Option<TimeSpan?> drainTimeout = CommonOptions.Duration("--drain-timeout", "on Ctrl+C, wait this long for connections to get their echoes and close (FIN) before resetting the rest; 0 resets at once", defaults.DrainTimeout, allowZero: true);
        Option<TimeSpan?> stats = CommonOptions.Duration("--stats", "print the model's counters as rates every INTERVAL, e.g. 1s [default: off]", null);
        var modelFlags = new ModelFlags(); // --workers, --loops, ...: from the registry, each refused for a model that does not take it or beyond the machine
        Option<LogEventLevel> logLevel = CommonOptions.LogLevel();
        var dashboard = new Option<bool>("--dashboard") { Description = "a live view of counters, rates, threads and CPU (periodic lines when stdout is not a terminal)" };
        var trace = new Option<bool>("--trace") { Description = "narrate each engine step at debug level, repeated steps summarised once a second, and list the open connections once a second when they change (sets --log-level debug)" };
        var portFile = new Option<string?>("--port-file") { Description = "once listening, write the bound port to this file (for scripts and 'iomodels bench', which run quieter than the log line)" };

        var command = new Command("serve", "Run an uppercase echo server on one IO model until Ctrl+C.")
        {
            model, host, port, backlog, bufferSize, outputBuffer, maxConnections, idleTimeout, drainTimeout, stats,
        };
        foreach (Option flag in modelFlags.All)
        {
            command.Options.Add(flag);
        }

        command.Options.Add(logLevel);
        command.Options.Add(dashboard);
        command.Options.Add(trace);
        command.Options.Add(portFile);
        modelFlags.Validate(command, model);
        command.SetAction((result, cancellationToken) => (worker ?? RunAsync)(
            new ServeSettings
            {
                Model = result.GetValue(model)!,
                Host = result.GetValue(host)!,
                Port = result.GetValue(port),
                Backlog = result.GetValue(backlog),
                BufferSize = result.GetValue(bufferSize),
                OutputBuffer = result.GetValue(outputBuffer),
                MaxConnections = result.GetValue(maxConnections),
                IdleTimeout = result.GetValue(idleTimeout),
                DrainTimeout = result.GetValue(drainTimeout) ?? defaults.DrainTimeout,
                StatsInterval = result.GetValue(stats),
                Workers = modelFlags.Count(result, EngineOption.Workers),
                PollInterval = modelFlags.Duration(result, EngineOption.PollInterval),
                SelectTimeout = modelFlags.Duration(result, EngineOption.SelectTimeout),
                EdgeTriggered = modelFlags.Switch(result, EngineOption.EdgeTriggered),
                InlineCompletions = modelFlags.Switch(result, EngineOption.InlineCompletions),
                Loops = modelFlags.Count(result, EngineOption.Loops),
                LogLevel = result.GetValue(logLevel),
                Dashboard = result.GetValue(dashboard),
                Trace = result.GetValue(trace),
                PortFile = result.GetValue(portFile),
            },
            result.InvocationConfiguration.Output, Serilog.Log.Logger, cancellationToken));
        return command;
    }

    /// <summary>The runtime's switch for running socket continuations on its epoll/kqueue thread (Unix only).</summary>
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Serves until <paramref name="cancellationToken"/> fires; returns the exit code.</summary>
    public static async Task<int> RunAsync(ServeSettings settings, TextWriter output, ILogger log, CancellationToken cancellationToken)
    {
        DescriptorLimit.EnsureEnoughToServe(); // first: below the minimum, what follows would fail with a stack trace
        ModelInfo model = Resolve(settings.Model);
        Logging.LevelSwitch.MinimumLevel = settings.LogLevel;
        if (settings.Trace && settings.LogLevel > LogEventLevel.Debug)
        {
            Logging.LevelSwitch.MinimumLevel = LogEventLevel.Debug; // before the engine is made: its tracer checks the level once
        }

        IPAddress address = CommonOptions.ParseListenAddress(settings.Host);
        EchoServerOptions options = ToOptions(settings, new IPEndPoint(address, settings.Port), log, model);
        if (settings.InlineCompletions)
        {
            // The runtime reads this once, when its socket engine first starts (the first asynchronous
            // socket operation in the process), which has not happened yet in this process. It is the
            // switch Kestrel exposes as UnsafePreferInlineScheduling.
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }

        await using IEchoServer server = model.Create(options);
        try
        {
            server.Start();
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new CliException(ExitCode.CannotListen, $"{options.EndPoint} is already in use (another server on that port?); choose another --port");
        }
        catch (SocketException exception) when (exception.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AccessDenied or SocketError.AddressFamilyNotSupported)
        {
            throw new CliException(ExitCode.CannotListen, $"cannot listen on {options.EndPoint}: {exception.Message}");
        }

        if (!SocketSetup.IsLoopback(address))
        {
            log.Warning("Listening on {Address}, beyond loopback: any host that can reach this machine can connect", address);
        }

        log.Information("Serving the {Model} model on {EndPoint}; Ctrl+C stops (twice forces)", model.Name, server.LocalEndPoint);
        if (model.Name == "async")
        {
            log.Information("Continuations run on {Where}", Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1"
                ? "the runtime's socket engine thread (inline completions)" : "thread-pool threads");
        }

        if (settings.PortFile is { } portFile)
        {
            // Written whole under a temporary name, then renamed: a reader never sees a half-written port.
            try
            {
                await File.WriteAllTextAsync(portFile + ".tmp", server.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
                File.Move(portFile + ".tmp", portFile, overwrite: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
            {
                if (File.Exists(portFile + ".tmp"))
                {
                    File.Delete(portFile + ".tmp"); // written, but the rename failed: leave nothing behind
                }

                throw new CliException(ExitCode.UsageError, $"cannot write --port-file {portFile}: {exception.Message}");
            }
        }

        var started = Stopwatch.StartNew();
        using var listingStop = new CancellationTokenSource(); // not linked to the stop signal: the drain is listed too
        Task listed = settings.Trace && server is IConnectionListing listing
            ? TraceConnections.RunAsync(model.Name, listing, log, TraceAggregator.DefaultInterval, listingStop.Token)
            : Task.CompletedTask;
        try
        {
            if (settings.Dashboard && Dashboard.CanDraw(output))
            {
                await Dashboard.RunAsync(model, server, log, cancellationToken);
            }
            else
            {
                TimeSpan? interval = settings.Dashboard ? settings.StatsInterval ?? Dashboard.FallbackInterval : settings.StatsInterval;
                if (settings.Dashboard)
                {
                    Dashboard.LogFallback(log, interval!.Value);
                }

                await ReportUntilCancelledAsync(model, server, interval, output, cancellationToken);
            }
        }
        finally
        {
            // The drain has its own deadline; after it, cutting what is left and joining threads take
            // moments. 10 s more is for a thread that will not end, which is then left behind.
            TimeSpan stopLimit = settings.DrainTimeout + TimeSpan.FromSeconds(10);
            using var stopTimeout = new CancellationTokenSource(stopLimit);
            try
            {
                await server.StopAsync(stopTimeout.Token);
            }
            catch (OperationCanceledException)
            {
                log.Warning("Stop took longer than {Seconds} s; leaving the remaining engine threads behind", (int)stopLimit.TotalSeconds);
            }
            finally
            {
                await listingStop.CancelAsync(); // after the stop, so the drain's rows ("stopping: FIN sent") were listed
                await listed; // ends at once: it only waits on its timer, and reports its own faults
            }

            await output.WriteAsync(StatisticsFormatter.Summary(model, server.Statistics.Snapshot(), started.Elapsed));
            await output.FlushAsync(CancellationToken.None);
        }

        return (int)ExitCode.Success;
    }

    internal static ModelInfo Resolve(string name)
    {
        ModelInfo? model = ModelRegistry.Find(name);
        if (model is null)
        {
            throw new CliException(ExitCode.UsageError, $"unknown model '{name}'; the models are: {ModelRegistry.Names()}");
        }

        if (!model.IsSupported)
        {
            throw new CliException(ExitCode.ModelUnavailable,
                $"the {model.Name} model is not available on this OS ({model.UnsupportedReason}); models that work here: {ModelRegistry.Names(supportedOnly: true)}");
        }

        return model;
    }

    /// <summary>
    /// The engine options for <paramref name="settings"/>, checked as the library checks them and, given
    /// the <paramref name="model"/>, as that model takes them (serve's parser refuses the same first; this
    /// is for callers without it). A refusal is a usage error in flag names.
    /// </summary>
    internal static EchoServerOptions ToOptions(ServeSettings settings, IPEndPoint endPoint, ILogger log, ModelInfo? model = null)
    {
        if (model is not null && settings.InlineCompletions && !model.Takes(EngineOption.InlineCompletions))
        {
            throw new CliException(ExitCode.UsageError, ModelFlags.Refusal(EngineOption.InlineCompletions, model)); // a process switch: not in the options
        }

        var options = new EchoServerOptions
        {
            EndPoint = endPoint,
            Backlog = settings.Backlog,
            BufferSize = settings.BufferSize,
            OutputBufferLimit = settings.OutputBuffer,
            MaxConnections = settings.MaxConnections,
            IdleTimeout = settings.IdleTimeout,
            DrainTimeout = settings.DrainTimeout,
            Workers = settings.Workers,
            PollInterval = settings.PollInterval,
            SelectTimeout = settings.SelectTimeout,
            EdgeTriggered = settings.EdgeTriggered,
            Loops = settings.Loops,
            Logger = log,
        };
        try
        {
            if (model is null)
            {
                options.Validate();
            }
            else
            {
                model.Validate(options);
            }
        }
        catch (ArgumentException exception)
        {
            throw new CliException(ExitCode.UsageError, FlagMessages.InFlags(exception, FlagMessages.Serve));
        }

        return options;
    }

    private static async Task ReportUntilCancelledAsync(ModelInfo model, IEchoServer server, TimeSpan? interval, TextWriter output, CancellationToken cancellationToken)
    {
        try
        {
            if (interval is not { } period)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return;
            }

            using var process = Process.GetCurrentProcess();
            using var timer = new PeriodicTimer(period);
            StatisticsSnapshot earlier = server.Statistics.Snapshot();
            TimeSpan cpuEarlier = process.TotalProcessorTime;
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                process.Refresh();
                StatisticsSnapshot now = server.Statistics.Snapshot();
                TimeSpan cpuNow = process.TotalProcessorTime;
                double cpu = StatisticsFormatter.CpuPercent(cpuEarlier, cpuNow, earlier.Timestamp, now.Timestamp);
                await output.WriteLineAsync(StatisticsFormatter.IntervalLine(model, earlier, now, cpu, process.Threads.Count));
                await output.FlushAsync(cancellationToken);
                earlier = now;
                cpuEarlier = cpuNow;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Expected: Ctrl+C or SIGTERM, the normal way a server is stopped.
        }
    }
}
