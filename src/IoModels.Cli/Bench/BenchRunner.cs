using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IoModels.Load;
using Spectre.Console;

namespace IoModels.Cli.Bench;

/// <summary>
/// Runs the grid: for every server (each model, then the target) and every connections x size cell,
/// a fresh server process (so its peak threads and memory belong to that cell alone), one load run,
/// and the server's CPU read at the edges of the measured window.
/// </summary>
internal sealed class BenchRunner
{
    /// <summary>Headroom over the connections asked for, so the server's own limit is never what is measured.</summary>
    private const int ServerConnectionHeadroom = 64;

    /// <summary>How often the progress bar moves: smooth enough to watch, cheap for a loaded machine.</summary>
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromMilliseconds(250);

    private readonly BenchSettings _settings;

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
        await progressConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var cells = new List<(string Label, ModelInfo? Model, int Connections, int Size, ProgressTask Task)>();
                IEnumerable<(string Label, ModelInfo? Model)> servers = _settings.Models.Select(m => (m.Name, (ModelInfo?)m));
                if (target is not null)
                {
                    servers = servers.Append((_settings.TargetLabel ?? $"{_settings.Target!.Host}:{_settings.Target.Port}", null));
                }

                foreach ((string label, ModelInfo? model) in servers)
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

                foreach ((string label, ModelInfo? model, int connections, int size, ProgressTask task) in cells)
                {
                    task.StartTask();
                    rows.Add(await RunCellAsync(label, model, target, connections, size, task, cancellationToken));
                    task.Value = task.MaxValue;
                    task.StopTask();
                }
            });

        return new BenchReport { Machine = MachineInfo.Current(), Command = _settings.CommandLine, Started = started, Runs = rows };
    }

    private async Task<BenchRow> RunCellAsync(string label, ModelInfo? model, IPEndPoint? target, int connections, int size, ProgressTask task, CancellationToken cancellationToken)
    {
        ServerProcess? server = null;
        try
        {
            IPEndPoint endPoint;
            int? pid;
            if (model is not null)
            {
                server = await ServerProcess.StartAsync(model, connections + ServerConnectionHeadroom, cancellationToken);
                endPoint = server.EndPoint;
                pid = server.Pid;
            }
            else
            {
                endPoint = target!;
                pid = _settings.TargetPid;
            }

            await using ProcessSampler? sampler = pid is { } id ? new ProcessSampler(id) : null;
            TimeSpan cpuAtStart = TimeSpan.Zero;
            TimeSpan cpuAtEnd = TimeSpan.Zero;
            var options = new LoadOptions
            {
                EndPoint = endPoint,
                Connections = connections,
                MessageSize = size,
                Depth = _settings.Depth,
                Warmup = _settings.Warmup,
                Duration = _settings.Duration,
                Rate = _settings.Rate,
                PhaseChanged = phase =>
                {
                    if (phase == LoadPhase.Measuring)
                    {
                        cpuAtStart = sampler?.CpuTime() ?? TimeSpan.Zero;
                    }
                    else if (phase == LoadPhase.Finished)
                    {
                        cpuAtEnd = sampler?.CpuTime() ?? TimeSpan.Zero;
                    }
                },
            };

            long started = Stopwatch.GetTimestamp();
            Task<LoadResult> load = LoadGenerator.RunAsync(options, cancellationToken);
            while (!load.IsCompleted)
            {
                task.Value = Math.Min(Stopwatch.GetElapsedTime(started).TotalSeconds, task.MaxValue);
                await Task.WhenAny(load, Task.Delay(s_progressInterval, cancellationToken));
            }

            LoadResult result = await load;
            return BenchRow.From(label, result, sampler is null ? null : cpuAtEnd - cpuAtStart, sampler?.PeakThreads, sampler?.PeakMemoryBytes());
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

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
