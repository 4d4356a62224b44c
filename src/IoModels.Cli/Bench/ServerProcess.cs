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
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What the child said on stderr, the last part kept for an error message.</summary>
    private const int StderrKept = 2000;

    private readonly Process _process;
    private readonly string _portFile;
    private readonly StringBuilder _stderr = new();

    private ServerProcess(Process process, string portFile)
    {
        _process = process;
        _portFile = portFile;
    }

    public int Pid => _process.Id;

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
        var server = new ServerProcess(process, portFile);
        process.ErrorDataReceived += (_, e) => server.KeepStderr(e.Data);
        process.OutputDataReceived += (_, _) => { }; // the final statistics summary: drained, not needed
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
                    _process.WaitForExit(); // drains stderr
                    // A usage error or a model this OS lacks is the user's to fix: keep serve's exit code for it.
                    ExitCode code = _process.ExitCode is (int)ExitCode.UsageError or (int)ExitCode.ModelUnavailable ? (ExitCode)_process.ExitCode : ExitCode.Failure;
                    throw new CliException(code, $"the {model.Label} server exited with code {_process.ExitCode} before listening: {LastStderrLine()}");
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
            throw new CliException(ExitCode.Failure, $"the {model.Label} server did not start listening within {s_startTimeout.TotalSeconds:0} s: {LastStderrLine()}");
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

    private string LastStderrLine()
    {
        lock (_stderr)
        {
            string[] lines = _stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.Length > 0 ? lines[^1] : "(it printed nothing)";
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
