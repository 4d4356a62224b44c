using System.Globalization;
using IoModels.Tests.Support;

namespace IoModels.Tests.Cli;

/// <summary>
/// Options that create a thread or descriptors per unit are bounded by what the process can have, and
/// refused beyond it in one line that says the bound and where it comes from, before any thread starts.
/// </summary>
public sealed class OptionBoundTests
{
    [SkippableFact]
    public async Task Workers_beyond_what_the_process_can_map_are_refused_in_one_line_without_starting_them()
    {
        UnitBound bound = ThreadBound();
        Skip.If(bound.Max >= EngineOption.Workers.Maximum, $"this machine can have {bound.Max} threads: no worker count in range is beyond it");

        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null, "serve", "--model", "blocking", "--port", "0", "--workers", "100000");
        Assert.Equal(2, exitCode);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("iomodels: --workers 100000 is more than this process can have: at most ", line, StringComparison.Ordinal);
        Assert.Matches(@"\((RLIMIT_NPROC|kernel\.|the cgroup's pids\.max|vm\.max_map_count)", line);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [SkippableFact]
    public void A_bench_entry_beyond_the_bound_is_refused_before_any_server_starts()
    {
        UnitBound bound = ThreadBound();
        Skip.If(bound.Max >= EngineOption.Workers.Maximum, $"this machine can have {bound.Max} threads");
        IoModels.Cli.CliException refused = Assert.Throws<IoModels.Cli.CliException>(() => IoModels.Cli.Bench.BenchServer.Parse("blocking --workers 100000"));
        Assert.Equal(IoModels.Cli.ExitCode.UsageError, refused.ExitCode);
        Assert.StartsWith("--model 'blocking --workers 100000': --workers 100000 is more than this process can have: at most ", refused.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Workers_within_the_bound_are_accepted_and_served()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        await using CliProcess server = CliProcess.Start("serve", "--model", "blocking", "--port", "0", "--workers", "4");
        int port = await server.WaitForServingPortAsync();
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync("pool\n", "client", "--port", port.ToString(CultureInfo.InvariantCulture));
        Assert.True(exitCode == 0, stderr);
        Assert.Equal("POOL", stdout.Trim());
        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [SkippableFact]
    public async Task Loops_beyond_the_descriptor_limit_are_refused_and_a_few_run()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "limits are read on Linux; prlimit sets the descriptor limit");
        // 128 descriptors: about 50 open at start and 64 kept for the runtime leave room for a few loops of three, not 40.
        await using (CliProcess refused = CliProcess.StartWithDescriptorLimit(128, "serve", "--model", "epoll", "--port", "0", "--loops", "40"))
        {
            Assert.Equal(2, await refused.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            string line = Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith("iomodels: --loops 40 is more than this process can have: at most ", line, StringComparison.Ordinal);
            Assert.Contains("(RLIMIT_NOFILE (ulimit -n) 128, ", line, StringComparison.Ordinal);
        }

        await using CliProcess server = CliProcess.StartWithDescriptorLimit(128, "serve", "--model", "epoll", "--port", "0", "--loops", "2");
        Assert.NotEqual(0, await server.WaitForServingPortAsync());
    }

    [SkippableFact]
    public void The_library_refuses_the_same_naming_the_option_property_not_a_flag()
    {
        UnitBound bound = ThreadBound();
        Skip.If(bound.Max >= EngineOption.Workers.Maximum, $"this machine can have {bound.Max} threads");
        ArgumentException error = Assert.Throws<ArgumentException>(() => ModelRegistry.Find("blocking")!.Create(new EchoServerOptions { Workers = 100_000 }));
        Assert.Equal(nameof(EchoServerOptions.Workers), error.ParamName);
        Assert.StartsWith("Workers 100000 is more than this process can have: at most ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_count_is_refused_only_beyond_the_bound_and_never_at_its_default()
    {
        ProcessLimits limits = ProcessLimits.From(new ProcessLimit(ProcessResource.Descriptors, 6, "six descriptors"));
        Assert.Null(EngineOption.Loops.BeyondLimit(2, limits)); // three descriptors a loop
        Assert.Equal("is more than this process can have: at most 2 (six descriptors)", EngineOption.Loops.BeyondLimit(3, limits));
        Assert.Null(EngineOption.Loops.BeyondLimit(1, ProcessLimits.From(new ProcessLimit(ProcessResource.Descriptors, 0, "none left"))));
        Assert.Null(EngineOption.Workers.BeyondLimit(1_000, ProcessLimits.From())); // nothing read (not Linux): no bound
    }

    private static UnitBound ThreadBound()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "process limits are read on Linux only");
        UnitBound? bound = ProcessLimits.Read().MaxUnits(EngineOption.Workers.PerUnit!.Value);
        Skip.If(bound is null, "no thread limit could be read here");
        return bound.Value;
    }
}
