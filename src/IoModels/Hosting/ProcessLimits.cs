using System.Globalization;

namespace IoModels;

/// <summary>
/// How many more threads, memory mappings and descriptors this process can have, read from the OS,
/// so that an option creating one of them per unit (a worker thread, an event loop) is refused
/// before anything starts, instead of dying part way: the runtime aborts the process when it cannot
/// map a new thread's stack. Linux: threads from RLIMIT_NPROC, kernel.threads-max, kernel.pid_max and
/// the cgroup's pids.max; mappings from vm.max_map_count; descriptors from RLIMIT_NOFILE, each less
/// what is in use. Other OSes: nothing is read and nothing is bounded here (the OS still refuses at
/// its own limits, less gracefully).
/// </summary>
public sealed class ProcessLimits
{
    /// <summary>
    /// Mappings a .NET thread takes on Linux: its stack and guard page, and the runtime's alternate
    /// signal stack and its guard. Measured: 4,000 blocking workers add 16,000 lines to /proc/PID/maps.
    /// </summary>
    public const int MappingsPerThread = 4;

    /// <summary>
    /// Mappings left for the runtime to grow into after start-up (GC regions, JIT code heaps,
    /// assemblies loaded later). About 400 are in use when <c>serve</c> starts; 2,048 leaves it
    /// several times that, at the price of about 500 threads of 16,000.
    /// </summary>
    public const int MappingReserve = 2048;


    private ProcessLimits(IReadOnlyList<ProcessLimit> limits, string? unreadReason)
    {
        Limits = limits;
        UnreadReason = unreadReason;
    }

    /// <summary>The limits read, several per resource where several apply (each binds on its own).</summary>
    public IReadOnlyList<ProcessLimit> Limits { get; }

    /// <summary>Why no limits were read (not Linux, or no procfs), or null when they were.</summary>
    public string? UnreadReason { get; }

    /// <summary>Reads the limits now; cheap enough to call once per start, not in a loop (it lists /proc/self/fd and reads /proc/self/maps).</summary>
    public static ProcessLimits Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new([], "process limits are read on Linux only; on this OS options are bounded by their fixed ranges alone");
        }

        if (!File.Exists("/proc/self/status"))
        {
            return new([], "no /proc here, so the process limits cannot be read");
        }

        var limits = new List<ProcessLimit>();
        long threads = ReadStatusField("Threads:") ?? 1;
        if (Interop.Resource.SoftLimit(Interop.Resource.RLIMIT_NPROC) is { } nproc)
        {
            limits.Add(Remaining(ProcessResource.Threads, nproc, threads, 0, $"RLIMIT_NPROC (ulimit -u) {nproc}, counting only this process's {threads} threads"));
        }

        AddSystemLimit(limits, "/proc/sys/kernel/threads-max", "kernel.threads-max", threads);
        AddSystemLimit(limits, "/proc/sys/kernel/pid_max", "kernel.pid_max (every thread takes a PID)", threads);
        if (CgroupPids() is { } pids)
        {
            limits.Add(Remaining(ProcessResource.Threads, pids.Max, pids.Current, 0, $"the cgroup's pids.max {pids.Max}, {pids.Current} in use"));
        }

        if (ReadNumber("/proc/sys/vm/max_map_count") is { } maxMaps)
        {
            long mapped = CountLines("/proc/self/maps");
            limits.Add(Remaining(ProcessResource.Mappings, maxMaps, mapped, MappingReserve,
                $"vm.max_map_count {maxMaps} at about {MappingsPerThread} mappings per thread, {mapped} mapped now and {MappingReserve} kept for the runtime"));
        }

        // Below the smallest limit a server runs under, serve refuses to start at all (exit 4, naming
        // the limit): no per-option bound is stated then, so that refusal is the one line shown.
        if (Interop.Resource.SoftLimit(Interop.Resource.RLIMIT_NOFILE) is { } nofile && nofile >= DescriptorHeadroom.MinimumLimit)
        {
            // The reserve the accept loops keep (scaled with the limit), so a bound never promises what
            // the engine would then refuse to use. Options are checked before the engine starts, and the
            // runtime opens some more while it starts: a value right at the bound may still fail then.
            long open = CountOpenDescriptors();
            int reserve = DescriptorHeadroom.ReserveFor(nofile);
            limits.Add(Remaining(ProcessResource.Descriptors, nofile, open, reserve,
                $"RLIMIT_NOFILE (ulimit -n) {nofile}, {open} open now and {reserve} kept for the runtime"));
        }

        return new(limits, null);
    }

    /// <summary>Limits given by hand: for tests, and for a host that knows better than the OS.</summary>
    public static ProcessLimits From(params ProcessLimit[] limits) => new([.. limits], null);

    /// <summary>
    /// The most units of <paramref name="cost"/> the process can add, and the limit that binds first;
    /// null when no limit read applies (nothing read on this OS, or the cost is zero).
    /// </summary>
    public UnitBound? MaxUnits(ResourceCost cost)
    {
        UnitBound? tightest = null;
        foreach (ProcessLimit limit in Limits)
        {
            long perUnit = limit.Resource switch
            {
                ProcessResource.Threads => cost.Threads,
                ProcessResource.Mappings => ((long)cost.Threads * MappingsPerThread) + cost.Mappings,
                ProcessResource.Descriptors => cost.Descriptors,
                _ => 0,
            };
            if (perUnit > 0 && (tightest is null || limit.Available / perUnit < tightest.Value.Max))
            {
                tightest = new UnitBound(limit.Available / perUnit, limit.Source);
            }
        }

        return tightest;
    }

    private static ProcessLimit Remaining(ProcessResource resource, long limit, long used, long reserve, string source) =>
        new(resource, Math.Max(0, limit - used - reserve), source);

    private static void AddSystemLimit(List<ProcessLimit> limits, string path, string name, long threads)
    {
        if (ReadNumber(path) is { } value)
        {
            limits.Add(Remaining(ProcessResource.Threads, value, threads, 0, $"{name} {value}, counting only this process's {threads} threads"));
        }
    }

    /// <summary>cgroup v2: the pids controller of this process's group, when it sets a number (not "max").</summary>
    private static (long Max, long Current)? CgroupPids()
    {
        string? group = ReadLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..];
        if (group is null)
        {
            return null;
        }

        string directory = Path.Join("/sys/fs/cgroup", group);
        return ReadNumber(Path.Join(directory, "pids.max")) is { } max && ReadNumber(Path.Join(directory, "pids.current")) is { } current
            ? (max, current)
            : null;
    }

    private static long? ReadStatusField(string field)
    {
        string? line = ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : Parse(line[field.Length..]);
    }

    private static long? ReadNumber(string path) => ReadLines(path).FirstOrDefault() is { } line ? Parse(line) : null;

    private static long? Parse(string text) =>
        long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : null;

    private static long CountLines(string path) => ReadLines(path).Length;

    private static long CountOpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return 0; // Expected under a hardened /proc: the bound is then the limit itself, less the reserve.
        }
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return []; // Expected where a limit does not exist (no cgroup v2, a hardened /proc): that limit is not applied.
        }
    }
}
