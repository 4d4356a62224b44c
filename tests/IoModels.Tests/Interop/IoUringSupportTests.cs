using IoModels.Uring;

namespace IoModels.Tests.Interop;

/// <summary>
/// Each way io_uring can be unavailable gives a reason that names the cause, so <c>iomodels models</c>
/// and <c>serve</c> can tell the user why, not just that the model is missing.
/// </summary>
// Only the text is tested: the errno values are the running OS's own, so this passes anywhere.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class IoUringSupportTests
{
    [Fact]
    public void A_kernel_older_than_5_11_is_too_old()
    {
        string? reason = UringSupport.CheckKernel(new Version(5, 10, 200), disabledSwitch: "0");
        Assert.NotNull(reason);
        Assert.Contains("5.10.200 is too old", reason, StringComparison.Ordinal);
        Assert.Contains("5.11", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sysctl_switch_at_2_disables_it_and_0_or_absent_does_not()
    {
        Assert.Contains("kernel.io_uring_disabled = 2", UringSupport.CheckKernel(new Version(6, 8), "2"), StringComparison.Ordinal);
        Assert.Null(UringSupport.CheckKernel(new Version(6, 8), "0"));
        Assert.Null(UringSupport.CheckKernel(new Version(5, 15), null));
    }

    [Fact]
    public void Setup_refused_with_EPERM_names_the_switch_or_the_seccomp_policy()
    {
        Assert.Contains("kernel.io_uring_disabled = 1", UringSupport.DescribeSetupFailure(IoModels.Interop.Libc.EPERM, new Version(6, 8), "1"), StringComparison.Ordinal);
        Assert.Contains("seccomp", UringSupport.DescribeSetupFailure(IoModels.Interop.Libc.EPERM, new Version(6, 8), "0"), StringComparison.Ordinal);
    }

    [Fact]
    public void Setup_missing_with_ENOSYS_says_so()
    {
        string reason = UringSupport.DescribeSetupFailure(IoModels.Interop.Libc.ENOSYS, new Version(5, 15), null);
        Assert.Contains("ENOSYS", reason, StringComparison.Ordinal);
        Assert.Contains("5.15", reason, StringComparison.Ordinal);
    }
}
