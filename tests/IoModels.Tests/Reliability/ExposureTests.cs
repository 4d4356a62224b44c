using System.Text.RegularExpressions;
using IoModels.Tests.Support;

namespace IoModels.Tests.Reliability;

/// <summary>
/// What the server exposes: loopback unless told otherwise, and a warning naming the address when
/// told otherwise. (No amplification, the third exposure rule, is asserted all through every fault
/// run: <see cref="FaultInjectionTests"/> fails if BytesOut ever exceeds BytesIn.)
/// </summary>
public sealed partial class ExposureTests
{
    [SkippableFact]
    public async Task Serve_without_host_listens_on_loopback_only()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        await using CliProcess server = CliProcess.Start("serve", "--port", "0");
        await server.WaitForServingPortAsync();
        Assert.Matches(ServingOnLoopback(), server.Stderr);
        Assert.DoesNotContain("beyond loopback", server.Stderr, StringComparison.Ordinal);
        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [SkippableFact]
    public async Task Serve_on_a_non_loopback_address_warns_and_names_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGTERM with kill(1)");
        // Port 0 and stopped at once: nothing connects to it; the test is about what the server says.
        await using CliProcess server = CliProcess.Start("serve", "--host", "0.0.0.0", "--port", "0");
        await server.WaitForServingPortAsync();
        string warning = server.Stderr.Split('\n').SingleOrDefault(l => l.Contains("WRN", StringComparison.Ordinal)) ?? "";
        Assert.Contains("0.0.0.0", warning, StringComparison.Ordinal);
        Assert.Contains("beyond loopback", warning, StringComparison.Ordinal);
        server.Signal("TERM");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [GeneratedRegex(@"Serving the \w+ model on 127\.0\.0\.1:\d+")]
    private static partial Regex ServingOnLoopback();
}
