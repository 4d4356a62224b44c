using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace IoModels.Tests.Support;

/// <summary>
/// Runs the built <c>iomodels</c> executable (copied beside the tests by the project reference) as a
/// child process, always with a deadline, and kills it by its PID if it overstays.
/// </summary>
internal sealed partial class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(Process process)
    {
        _process = process;
    }

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static CliProcess Start(params string[] args) => Launch([], args);

    /// <summary>
    /// Starts <c>iomodels</c> under <c>prlimit</c> with at most <paramref name="openFiles"/> open
    /// descriptors (soft and hard). prlimit execs the command, so <see cref="Id"/> is the server's PID.
    /// </summary>
    public static CliProcess StartWithDescriptorLimit(int openFiles, params string[] args) =>
        Launch(["prlimit", $"--nofile={openFiles}:{openFiles}", "--"], args);

    private static CliProcess Launch(string[] wrapper, string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "iomodels.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var info = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (wrapper.Length > 0)
        {
            // The wrapper runs dotnet: "prlimit --nofile=N:N -- dotnet iomodels.dll ...".
            foreach (string arg in wrapper.Skip(1))
            {
                info.ArgumentList.Add(arg);
            }

            info.ArgumentList.Add(dotnet);
        }

        info.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (cli._stdout) { cli._stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (cli._stderr) { cli._stderr.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs to completion with <paramref name="stdin"/> piped in; returns the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, params string[] args)
    {
        await using CliProcess cli = Start(args);
        if (stdin is not null)
        {
            await cli._process.StandardInput.WriteAsync(stdin);
        }

        cli._process.StandardInput.Close();
        int exitCode = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, cli.Stdout, cli.Stderr);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        // WaitForExitAsync also waits for the redirected output to reach its end; the token bounds both.
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"iomodels (pid {_process.Id}) did not exit within {timeout}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for the server's "Serving ... on ADDRESS:PORT" log line and returns the port.</summary>
    public async Task<int> WaitForServingPortAsync()
    {
        int port = 0;
        await TaskTimeoutExtensions.Eventually(() =>
        {
            Match match = ServingLine().Match(Stderr);
            port = match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            return port != 0 || _process.HasExited;
        }, "the server logs the port it serves on");
        Assert.True(port != 0, $"the server exited early: {Stderr}");
        return port;
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit(5000);
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"Serving the \w+ model on [^\s]+:(\d+)")]
    private static partial Regex ServingLine();
}
