using System.Runtime.InteropServices;

namespace IoModels.Cli.Bench;

/// <summary>The machine a benchmark ran on, recorded beside its numbers (numbers without a machine mean nothing).</summary>
internal sealed record MachineInfo
{
    public required int Cores { get; init; }
    public required string Cpu { get; init; }
    public required string Os { get; init; }
    public required string Kernel { get; init; }
    public required string Runtime { get; init; }
    public required string Architecture { get; init; }

    public static MachineInfo Current() => new()
    {
        Cores = Environment.ProcessorCount,
        Cpu = CpuModel() ?? "unknown",
        Os = RuntimeInformation.OSDescription,
        Kernel = ReadFirstLine("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.VersionString,
        Runtime = RuntimeInformation.FrameworkDescription,
        Architecture = RuntimeInformation.OSArchitecture.ToString(),
    };

    public override string ToString() => $"{Cores} cores ({Cpu}), {Os}, kernel {Kernel}, {Runtime}, {Architecture}";

    private static string? CpuModel()
    {
        if (!File.Exists("/proc/cpuinfo"))
        {
            return null;
        }

        string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim();
    }

    private static string? ReadFirstLine(string path) =>
        File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null;
}
