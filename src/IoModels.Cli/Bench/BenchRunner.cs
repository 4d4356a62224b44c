using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IoModels.Load;
using Spectre.Console;

namespace IoModels.Cli.Bench;

/// <summary>
/// Runs the grid: for every server (each model, then the target) and every connections x size cell,
/// a fresh server process (so its peak threads and memory belong to that cell alone), one load run,
/// and the server's CPU read at the edges of the measured window. Then the scale runs, if asked: a
/// fresh server, its memory read, N connections opened and echoed once, held idle, memory read again.
/// </summary>
internal sealed class BenchRunner
{
    /// <summary>Headroom over the connections asked for, so the server's own limit is never what is measured.</summary>
    private const int ServerConnectionHeadroom = 64;

    /// <summary>How often the progress bar moves: smooth enough to watch, cheap for a loaded machine.</summary>
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromMilliseconds(250);

    private readonly BenchSettings _settings;
    private string? _generator;

    public BenchRunner(BenchSettings settings)
    {
        _settings = settings;
    }

    /// <summary>Runs every cell, showing progress on <paramref name="progressConsole"/>, and returns the report.</summary>
    public async Task<BenchReport> RunAsync(IAnsiConsole progressConsole, CancellationToken cancellationToken)
    {
        DateTimeOffset started = DateTimeOffset.UtcNow;
        IPEndPoint? target = _settings.Target is { } dns ? await ResolveTargetAsync(dns, cancellationToken) : null;
        var rows = new List<BenchRow>();
        var scaleRows = new List<ScaleRow>();
        await progressConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var cells = new List<(string Label, BenchServer? Model, int Connections, int Size, ProgressTask Task)>();
                IEnumerable<(string Label, BenchServer? Model)> servers = _settings.Models.Select(m => (m.Label, (BenchServer?)m));
                if (target is not null)
                {
                    servers = servers.Append((_settings.TargetLabel ?? $"{_settings.Target!.Host}:{_settings.Target.Port}", null));
                }

                foreach ((string label, BenchServer? model) in servers)
                {
                    foreach (int connections in _settings.Connections)
                    {
                        foreach (int size in _settings.Sizes)
                        {
                            ProgressTask task = context.AddTask(Markup.Escape($"{label} {connections} x {size} B"), autoStart: false,
                                maxValue: (_settings.Warmup + _settings.Duration).TotalSeconds);
                            cells.Add((label, model, connections, size, task));
                        }
                    }
                }

                var scaleCells = new List<(string Label, BenchServer? Model, int Connections, ProgressTask Task)>();
                foreach ((string label, BenchServer? model) in servers)
                {
                    foreach (int connections in _settings.Scale)
                    {
                        ProgressTask task = context.AddTask(Markup.Escape($"{label} scale {connections:N0} idle"), autoStart: false, maxValue: 1);
                        scaleCells.Add((label, model, connections, task));
                    }
                }

                foreach ((string label, BenchServer? model, int connections, int size, ProgressTask task) in cells)
                {
                    task.StartTask();
                    rows.Add(await RunCellAsync(label, model, target, connections, size, task, cancellationToken));
                    task.Value = task.MaxValue;
                    task.StopTask();
                }

                foreach ((string label, BenchServer? model, int connections, ProgressTask task) in scaleCells)
                {
                    task.StartTask();
                    scaleRows.Add(await RunScaleAsync(label, model, target, connections, cancellationToken));
                    task.Value = task.MaxValue;
                    task.StopTask();
                }
            });

        return new BenchReport
        {
            Machine = MachineInfo.Current(),
            Command = _settings.CommandLine,
            Started = started,
            Generator = _generator ?? "none ran",
            Runs = rows,
            Scale = scaleRows,
        };
    }

    private async Task<BenchRow> RunCellAsync(string label, BenchServer? model, IPEndPoint? target, int connections, int size, ProgressTask task, CancellationToken cancellationToken)
    {
        (ServerProcess? server, IPEndPoint endPoint, int? pid) = await StartServerAsync(model, target, connections, cancellationToken);
        BenchRow row;
        await using (server) // null for a --target: nothing of ours to stop
        {
            await using ProcessSampler? sampler = await OpenSamplerAsync(server, pid);
            TimeSpan? cpuAtStart = null;
            TimeSpan? cpuAtEnd = null;
            LoadOptions options = CellOptions(endPoint, connections, size) with
            {
                PhaseChanged = phase =>
                {
                    if (phase == LoadPhase.Measuring)
                    {
                        cpuAtStart = sampler?.CpuTime();
                    }
                    else if (phase == LoadPhase.Finished)
                    {
                        cpuAtEnd = sampler?.CpuTime();
                    }
                },
            };

            long started = Stopwatch.GetTimestamp();
            LoadResult result = await RunLoadAsync(server, options,
                () => task.Value = Math.Min(Stopwatch.GetElapsedTime(started).TotalSeconds, task.MaxValue), cancellationToken);
            if (sampler is not null && (cpuAtStart is null || cpuAtEnd is null))
            {
                // No CPU figure: the process ended around the load's last moment, after RunLoadAsync looked.
                throw server is not null ? await server.DiedAsync("mid-run") : TargetGone(pid);
            }

            _generator = Describe(result);
            row = BenchRow.From(label, result, cpuAtEnd - cpuAtStart, sampler?.PeakThreads, sampler?.PeakMemoryBytes());
        }

        // The server prints its counters as it stops, so they are read once it has gone.
        return server is null ? row : row with { EngineCalls = server.EngineCalls(size) };
    }

    /// <summary>
    /// One scale run: the server's memory before, then every connection opened and echoed once (the
    /// epoll generator's scale mode), held idle for <see cref="BenchSettings.ScaleHold"/>, and the
    /// memory read again while they are all still open.
    /// </summary>
    private async Task<ScaleRow> RunScaleAsync(string label, BenchServer? model, IPEndPoint? target, int connections, CancellationToken cancellationToken)
    {
        (ServerProcess? server, IPEndPoint endPoint, int? pid) = await StartServerAsync(model, target, connections, cancellationToken);
        await using (server) // null for a --target: nothing of ours to stop
        {
            await using ProcessSampler? sampler = await OpenSamplerAsync(server, pid);
            long? before = sampler?.MemoryBytes();
            long? idle = null;
            LoadOptions options = ScaleOptions(endPoint, connections) with
            {
                PhaseChanged = phase =>
                {
                    if (phase == LoadPhase.Finished)
                    {
                        idle = sampler?.MemoryBytes(); // after the hold, every connection still open
                    }
                },
            };

            LoadResult result = await RunLoadAsync(server, options, onTick: null, cancellationToken);
            _generator ??= Describe(result);
            return new ScaleRow
            {
                Server = label,
                Connections = connections,
                ConnectionsOpened = result.ConnectionsOpened,
                ConnectMilliseconds = result.ConnectTime.TotalMilliseconds,
                AllEchoedMilliseconds = result.AllEchoedAfter?.TotalMilliseconds,
                Errors = result.Errors,
                Mismatches = result.MismatchedBytes,
                MemoryBeforeBytes = before,
                MemoryIdleBytes = idle,
                PeakThreads = sampler?.PeakThreads,
            };
        }
    }

    /// <summary>
    /// Checks the load of every cell and scale run before any server starts, with the load
    /// generator's own rules (LoadOptions.Validate), so a setting it would refuse minutes into the
    /// grid is one usage error now.
    /// </summary>
    /// <exception cref="CliException">A setting the load generator refuses.</exception>
    public void CheckLoad()
    {
        var placeholder = new IPEndPoint(IPAddress.Loopback, 1); // never connected to: only the settings are checked
        try
        {
            foreach (int connections in _settings.Connections)
            {
                foreach (int size in _settings.Sizes)
                {
                    CellOptions(placeholder, connections, size).Validate();
                }
            }

            foreach (int connections in _settings.Scale)
            {
                ScaleOptions(placeholder, connections).Validate();
            }
        }
        catch (ArgumentException exception)
        {
            throw new CliException(ExitCode.UsageError, Commands.FlagMessages.InFlags(exception, Commands.FlagMessages.Bench));
        }

        CheckDescriptors();
    }

    /// <summary>
    /// Bench holds a descriptor per connection, and so does each server it starts (they inherit its
    /// limit): more connections than the open-files limit leaves room for would end with the load
    /// generator or the runtime out of descriptors mid-run (the runtime aborts), so say so first.
    /// </summary>
    /// <exception cref="CliException">The most connections of any run do not fit (<see cref="ExitCode.UsageError"/>).</exception>
    private void CheckDescriptors()
    {
        int most = _settings.Connections.Concat(_settings.Scale).DefaultIfEmpty(0).Max();
        if (DescriptorHeadroom.CouldReachReserve(most))
        {
            long limit = DescriptorHeadroom.OpenFilesLimit();
            long needed = most + DescriptorHeadroom.RuntimeNeed + DescriptorHeadroom.MaxReserve;
            throw new CliException(ExitCode.UsageError,
                $"{most:N0} connections do not fit the open-files limit of {limit:N0} (bench and each server hold one descriptor per connection, " +
                $"plus about {DescriptorHeadroom.RuntimeNeed} for the runtime): raise it (ulimit -n {needed}) or ask for fewer");
        }
    }

    /// <summary>The load of one grid cell.</summary>
    private LoadOptions CellOptions(IPEndPoint endPoint, int connections, int size) => new()
    {
        EndPoint = endPoint,
        Connections = connections,
        MessageSize = size,
        Depth = _settings.Depth,
        Warmup = _settings.Warmup,
        Duration = _settings.Duration,
        Rate = _settings.Rate,
        Generator = _settings.Generator,
        Threads = _settings.LoadThreads,
    };

    /// <summary>The load of one scale run: every connection echoes one message of the first size, then is held idle.</summary>
    private LoadOptions ScaleOptions(IPEndPoint endPoint, int connections) => CellOptions(endPoint, connections, _settings.Sizes[0]) with
    {
        Depth = 1,
        Rate = null,
        MessagesPerConnection = 1,
        Warmup = TimeSpan.Zero,
        Duration = _settings.ScaleHold,
    };

    /// <summary>A fresh child server for <paramref name="model"/>, or the target (with its PID, if given) when there is no model.</summary>
    private async Task<(ServerProcess? Server, IPEndPoint EndPoint, int? Pid)> StartServerAsync(BenchServer? model, IPEndPoint? target, int connections, CancellationToken cancellationToken)
    {
        if (model is null)
        {
            return (null, target!, _settings.TargetPid);
        }

        ServerProcess server = await ServerProcess.StartAsync(model, connections + ServerConnectionHeadroom, cancellationToken);
        return (server, server.EndPoint, server.Pid);
    }

    /// <summary>
    /// Runs the load while watching our child server (null for a --target): if the server ends before
    /// bench stops it (a crash, a runtime abort, a signal), the load is cancelled and the death reported
    /// in one line, rather than measuring a dead server or asking the OS for its CPU.
    /// </summary>
    /// <exception cref="CliException">The server died mid-run (<see cref="ExitCode.ServerDied"/>).</exception>
    private static async Task<LoadResult> RunLoadAsync(ServerProcess? server, LoadOptions options, Action? onTick, CancellationToken cancellationToken)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<LoadResult> load = LoadGenerator.RunAsync(options, run.Token);
        while (!load.IsCompleted && server is not { HasExited: true })
        {
            onTick?.Invoke();
            await Task.WhenAny(load, Task.Delay(s_progressInterval, cancellationToken));
        }

        if (server is { HasExited: true })
        {
            await run.CancelAsync();
            try
            {
                await load;
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException)
            {
                // Expected: the load was cancelled, or broke on the dead server's sockets; the death is what to report.
            }

            throw await server.DiedAsync("mid-run");
        }

        return await load;
    }

    /// <summary>The OS figures of the server being measured: our child's or the --target-pid's; null for a target without a PID.</summary>
    private static async Task<ProcessSampler?> OpenSamplerAsync(ServerProcess? server, int? pid)
    {
        if (pid is not { } id)
        {
            return null;
        }

        try
        {
            return new ProcessSampler(id);
        }
        catch (ArgumentException) when (server is not null)
        {
            throw await server.DiedAsync("before the load started"); // gone between listening and now
        }
        catch (ArgumentException)
        {
            throw TargetGone(pid);
        }
    }

    /// <summary>A --target-pid process that ended mid-run: its CPU and memory can no longer be read.</summary>
    private static CliException TargetGone(int? pid) =>
        new(ExitCode.ServerDied, $"the --target-pid process {pid} is no longer running, so its CPU and memory cannot be read: did the target server die?");

    private static string Describe(LoadResult result) => result.Generator == LoadGeneratorKind.Epoll
        ? $"epoll, {result.Threads} thread{(result.Threads == 1 ? string.Empty : "s")}"
        : "sockets (SocketAsyncEventArgs on the thread pool)";

    /// <summary>The target's address, checked reachable before any load is aimed at it.</summary>
    private static async Task<IPEndPoint> ResolveTargetAsync(DnsEndPoint target, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(target.Host, out IPAddress? literal) ? [literal] : await Dns.GetHostAddressesAsync(target.Host, cancellationToken);
        }
        catch (SocketException exception)
        {
            throw new CliException(ExitCode.Unreachable, $"cannot resolve --target host '{target.Host}': {exception.Message}");
        }

        IPAddress address = addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
            ?? throw new CliException(ExitCode.Unreachable, $"--target host '{target.Host}' has no address");
        var endPoint = new IPEndPoint(address, target.Port);
        using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await probe.ConnectAsync(endPoint, timeout.Token);
        }
        catch (Exception exception) when (exception is SocketException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            string why = exception is SocketException { SocketErrorCode: SocketError.ConnectionRefused } ? "connection refused" : exception.Message;
            throw new CliException(ExitCode.Unreachable, $"cannot connect to --target {endPoint}: {why}");
        }

        return endPoint;
    }
}
