using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace IoModels.Cli.Bench;

/// <summary>
/// One model's server as a child process: <c>iomodels serve --model M --port 0</c>, so the server's
/// CPU, threads and memory are its own and not mixed with the load generator's. Started quiet
/// (<c>--log-level warning</c>: logging every accept would be part of what is measured); it reports
/// its port through <c>--port-file</c>. Stopped by its PID: SIGTERM, then kill after a deadline.
/// A server that exits on its own (a crash, a signal, a refusal) is described in one line by
/// <see cref="DiedAsync"/>: how it ended and the last lines it wrote.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What the child said on stderr, the last part kept for an error message.</summary>
    private const int StderrKept = 2000;

    /// <summary>Lines of its stderr a death report quotes: a runtime abort is one or two ("Out of memory."), a log line before it says why.</summary>
    private const int LastWordsLines = 3;

    /// <summary>How long a death report waits for the dead server's stderr to reach its end.</summary>
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly string _portFile;
    private readonly StringBuilder _stderr = new();

    /// <summary>What the child wrote on stdout: nothing but its final statistics summary (bench runs it without --stats).</summary>
    private readonly List<string> _stdout = [];

    /// <summary>Lines of stdout kept: a summary is one per counter plus a few; more is something else.</summary>
    private const int StdoutKept = 200;

    private readonly TaskCompletionSource _stdoutEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _label;

    private ServerProcess(Process process, string portFile, string label)
    {
        _process = process;
        _portFile = portFile;
        _label = label;
    }

    public int Pid => _process.Id;

    /// <summary>True once the server has ended, by itself or by a signal; bench only ends it in <see cref="DisposeAsync"/>.</summary>
    public bool HasExited => _process.HasExited;

    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>Starts the model's server and returns once it accepts connections.</summary>
    public static async Task<ServerProcess> StartAsync(BenchServer model, int maxConnections, CancellationToken cancellationToken)
    {
        string portFile = Path.Combine(Path.GetTempPath(), $"iomodels-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.port");
        ProcessStartInfo info = SelfStartInfo();
        foreach (string arg in (string[])["serve", "--model", model.Model.Name, "--port", "0", "--log-level", "warning", "--port-file", portFile,
                     "--max-connections", maxConnections.ToString(CultureInfo.InvariantCulture), .. model.ServeOptions])
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var server = new ServerProcess(process, portFile, model.Label);
        process.ErrorDataReceived += (_, e) => server.KeepStderr(e.Data);
        process.OutputDataReceived += (_, e) => server.KeepStdout(e.Data); // the final statistics summary: see EngineCalls
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await server.WaitUntilAcceptingAsync(model, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>How to run this same executable again: the apphost itself, or <c>dotnet iomodels.dll</c>.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        string self = Environment.ProcessPath ?? throw new CliException(ExitCode.Failure, "cannot find this executable's path to start the servers");
        var info = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            string entry = Assembly.GetEntryAssembly()?.Location ?? throw new CliException(ExitCode.Failure, "cannot find iomodels.dll to start the servers");
            info.ArgumentList.Add(entry);
        }

        return info;
    }

    private async Task WaitUntilAcceptingAsync(BenchServer model, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_startTimeout);
        try
        {
            while (!File.Exists(_portFile))
            {
                if (_process.HasExited)
                {
                    // A usage error, a model this OS lacks or a refusal to listen (port, descriptor limit) is
                    // the user's to fix: keep serve's exit code for it; anything else is a server that died.
                    throw await DiedAsync("before listening", keep: [ExitCode.UsageError, ExitCode.ModelUnavailable, ExitCode.CannotListen]);
                }

                await Task.Delay(20, timeout.Token);
            }

            int port = int.Parse(await File.ReadAllTextAsync(_portFile, timeout.Token), CultureInfo.InvariantCulture);
            EndPoint = new IPEndPoint(IPAddress.Loopback, port);
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await probe.ConnectAsync(EndPoint, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCode.Failure, $"the {model.Label} server did not start listening within {s_startTimeout.TotalSeconds:0} s: {LastWords()}");
        }
    }

    private void KeepStdout(string? line)
    {
        if (line is null)
        {
            _stdoutEnded.TrySetResult();
            return;
        }

        lock (_stdout)
        {
            if (_stdout.Count < StdoutKept)
            {
                _stdout.Add(line);
            }
        }
    }

    /// <summary>
    /// The engine's calls per message, from the summary the server printed as it stopped: only after
    /// <see cref="DisposeAsync"/>, and null if it printed none (killed at the deadline, or died).
    /// </summary>
    public EngineCalls? EngineCalls(int messageSize)
    {
        lock (_stdout)
        {
            return Bench.EngineCalls.FromSummary(_stdout, messageSize);
        }
    }

    private void KeepStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stderr)
        {
            _stderr.AppendLine(line);
            if (_stderr.Length > StderrKept)
            {
                _stderr.Remove(0, _stderr.Length - StderrKept);
            }
        }
    }

    /// <summary>
    /// The one line for a server that ended while bench still needed it: its model, how it ended (exit
    /// code, or the signal that killed it) and its last lines. Waits briefly for its stderr to be read
    /// to the end, so the last lines are the real last ones.
    /// </summary>
    /// <param name="when">When it died, for the message: "before listening", "mid-run".</param>
    /// <param name="keep">Serve's own exit codes passed on as they are, with its own line (its refusals); any other end is <see cref="ExitCode.ServerDied"/>.</param>
    public async Task<CliException> DiedAsync(string when, params ExitCode[] keep)
    {
        using (var drained = new CancellationTokenSource(s_drainTimeout))
        {
            try
            {
                await _process.WaitForExitAsync(drained.Token);
            }
            catch (OperationCanceledException)
            {
                // Expected only if something else holds its stderr open: report what was read so far.
            }
        }

        int exitCode = _process.ExitCode;
        return keep.Contains((ExitCode)exitCode)
            ? new CliException((ExitCode)exitCode, $"the {_label} server exited with code {exitCode} {when}: {LastWords()}") // a refusal: its own line says why
            : new CliException(ExitCode.ServerDied, $"the {_label} server died {when}: {DescribeEnd(exitCode)}; its last lines: {LastWords()}");
    }

    /// <summary>
    /// "exit code 3", or "killed by SIGKILL (exit code 137)": .NET reports a child ended by signal N as
    /// exit code 128 + N, as shells do, so a code in that range is read as the signal.
    /// </summary>
    internal static string DescribeEnd(int exitCode)
    {
        if (OperatingSystem.IsWindows() || exitCode is <= 128 or > 128 + 64)
        {
            return $"exit code {exitCode}";
        }

        int signal = exitCode - 128;
        string name = signal switch
        {
            1 => "SIGHUP",
            2 => "SIGINT",
            3 => "SIGQUIT",
            4 => "SIGILL",
            6 => "SIGABRT (a runtime abort)",
            7 => "SIGBUS",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            15 => "SIGTERM",
            _ => $"signal {signal}",
        };
        return $"killed by {name} (exit code {exitCode})";
    }

    /// <summary>The last few lines the server wrote to stderr, joined into one line.</summary>
    private string LastWords()
    {
        lock (_stderr)
        {
            string[] lines = _stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.Length > 0 ? string.Join(" | ", lines[^Math.Min(LastWordsLines, lines.Length)..]) : "(it printed nothing)";
        }
    }

    /// <summary>SIGTERM (the server stops gracefully), then kill if it is still there after the deadline.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                SendTerminate();
                using var deadline = new CancellationTokenSource(s_stopTimeout);
                try
                {
                    await _process.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }

            try
            {
                await _stdoutEnded.Task.WaitAsync(s_drainTimeout);
            }
            catch (TimeoutException)
            {
                // Something else holds its stdout open: EngineCalls reads what arrived, or reports none.
            }
        }
        finally
        {
            _process.Dispose();
            File.Delete(_portFile);
            File.Delete(_portFile + ".tmp");
        }
    }

    /// <summary>.NET can only SIGKILL another process, so SIGTERM goes through kill(1) on Unix; Windows has no SIGTERM.</summary>
    private void SendTerminate()
    {
        if (OperatingSystem.IsWindows())
        {
            _process.Kill(entireProcessTree: true);
            return;
        }

        try
        {
            using Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            _process.Kill(entireProcessTree: true); // no kill(1) here: stop it the hard way
        }
    }
}
