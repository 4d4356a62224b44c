using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace IoModels.Cli.Bench;

/// <summary>
/// Reads a server process's cost from the OS while it runs: CPU time (user + system) on demand,
/// threads sampled every 100 ms for the peak, and the peak resident memory at the end. On Linux
/// threads and memory come from <c>/proc/PID/status</c> (<c>Threads</c>, <c>VmHWM</c>: one small
/// file read, cheap enough to sample a server with 10,000 threads); elsewhere from <see cref="Process"/>.
/// </summary>
internal sealed class ProcessSampler : IAsyncDisposable
{
    /// <summary>Often enough to catch a thread-per-connection server at its peak, rarely enough to cost nothing.</summary>
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);

    private readonly Process _process;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _peakThreads;

    public ProcessSampler(int pid)
    {
        _process = Process.GetProcessById(pid);
        Sample();
        _sampling = SampleUntilStoppedAsync();
    }

    /// <summary>The most threads seen so far.</summary>
    public int PeakThreads => Volatile.Read(ref _peakThreads);

    /// <summary>CPU time the process has used so far (user + system), or null once it has exited (the OS no longer says).</summary>
    public TimeSpan? CpuTime()
    {
        try
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
        catch (Exception exception) when (exception is Win32Exception or InvalidOperationException)
        {
            return null; // gone (Linux: no /proc/PID/stat any more): the caller reports the death, not this
        }
    }

    /// <summary>The process's peak resident memory so far, in bytes, or null if the OS does not say.</summary>
    public long? PeakMemoryBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            return ReadStatusField("VmHWM") is { } kilobytes ? kilobytes * 1024 : null;
        }

        _process.Refresh();
        return _process.PeakWorkingSet64 > 0 ? _process.PeakWorkingSet64 : null;
    }

    /// <summary>The process's resident memory now, in bytes (Linux: VmRSS), or null if the OS does not say.</summary>
    public long? MemoryBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            return ReadStatusField("VmRSS") is { } kilobytes ? kilobytes * 1024 : null;
        }

        _process.Refresh();
        return _process.WorkingSet64 > 0 ? _process.WorkingSet64 : null;
    }

    private async Task SampleUntilStoppedAsync()
    {
        using var timer = new PeriodicTimer(s_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
            // Expected: DisposeAsync stops the sampling.
        }
    }

    private void Sample()
    {
        int threads;
        if (OperatingSystem.IsLinux())
        {
            threads = (int)(ReadStatusField("Threads") ?? 0);
        }
        else
        {
            try
            {
                _process.Refresh();
                threads = _process.Threads.Count;
            }
            catch (InvalidOperationException)
            {
                return; // the process has exited: the peak so far stands
            }
        }

        if (threads > _peakThreads)
        {
            Volatile.Write(ref _peakThreads, threads);
        }
    }

    /// <summary>The number in a line such as <c>VmHWM:  123456 kB</c> of /proc/PID/status, or null.</summary>
    private long? ReadStatusField(string name)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{_process.Id}/status");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null; // the process has exited, or is not ours to read: no figure rather than a wrong one
        }

        foreach (string line in lines)
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] == ':')
            {
                string value = line[(name.Length + 1)..].Trim().Split(' ', 2)[0];
                return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long number) ? number : null;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
        _process.Dispose();
    }
}
