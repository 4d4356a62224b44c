using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IoModels.Tests;

public sealed class ProcessLimitsTests
{
    [SkippableFact]
    public void On_Linux_threads_mappings_and_descriptors_are_read_with_their_sources()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the limits are read on Linux only");
        ProcessLimits limits = ProcessLimits.Read();
        Assert.Null(limits.UnreadReason);
        Assert.Contains(limits.Limits, l => l.Resource == ProcessResource.Threads && l.Source.StartsWith("kernel.threads-max ", StringComparison.Ordinal));
        Assert.Contains(limits.Limits, l => l.Resource == ProcessResource.Mappings && l.Source.StartsWith("vm.max_map_count ", StringComparison.Ordinal));
        ProcessLimit files = Assert.Single(limits.Limits, l => l.Resource == ProcessResource.Descriptors);
        Assert.StartsWith("RLIMIT_NOFILE (ulimit -n) ", files.Source, StringComparison.Ordinal);
        Assert.All(limits.Limits, l => Assert.True(l.Available >= 0, l.Source));

        // A thread per unit is bounded; so is this process, which runs far fewer threads than the bound.
        UnitBound threads = Assert.NotNull(limits.MaxUnits(new ResourceCost(Threads: 1)));
        Assert.InRange(threads.Max, Environment.ProcessorCount, long.MaxValue);
    }

    [Fact]
    public void The_tightest_limit_per_unit_binds_and_names_its_source()
    {
        ProcessLimits limits = ProcessLimits.From(
            new ProcessLimit(ProcessResource.Threads, 1000, "threads"),
            new ProcessLimit(ProcessResource.Mappings, 2000, "maps"),
            new ProcessLimit(ProcessResource.Descriptors, 90, "files"));

        // A thread costs 4 mappings: 500 threads' worth of mappings binds before 1,000 threads.
        Assert.Equal(new UnitBound(500, "maps"), limits.MaxUnits(new ResourceCost(Threads: 1)));
        // A loop also costs three descriptors and three mappings of its own: 90 / 3 = 30.
        Assert.Equal(new UnitBound(30, "files"), limits.MaxUnits(new ResourceCost(Threads: 1, Descriptors: 3, Mappings: 3)));
        Assert.Null(limits.MaxUnits(default));
        Assert.Null(ProcessLimits.From().MaxUnits(new ResourceCost(Threads: 1)));
    }

    [SkippableFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // the skip below keeps other OSes out
    public void Rlimit_matches_the_C_layout()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the rlimit interop is Linux only");
        Assert.Equal(2 * IntPtr.Size, Unsafe.SizeOf<IoModels.Interop.Resource.RLimit>());
        Assert.Equal(IntPtr.Size, (int)Marshal.OffsetOf<IoModels.Interop.Resource.RLimit>("rlim_max"));
    }
}
