namespace IoModels.Epoll;

/// <summary>
/// What the registry needs to know about the epoll model on this OS, callable on every OS (the engine
/// itself is Linux, macOS and FreeBSD only).
/// </summary>
public static class EpollModel
{
    /// <summary>The kernel facility the engine uses here: epoll on Linux, kqueue on macOS and FreeBSD, null elsewhere.</summary>
    public static string? Mechanism =>
        OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? "kqueue" : null;

    /// <summary>Why this OS cannot run the model, or null.</summary>
    public static string? UnsupportedReason =>
        Mechanism is null ? "it needs epoll (Linux) or kqueue (macOS, FreeBSD), and this OS has neither" : null;

    /// <summary>Creates the engine (not yet started).</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux, macOS or FreeBSD.</exception>
    public static IEchoServer Create(EchoServerOptions options)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            return new EpollEchoServer(options);
        }

        throw new PlatformNotSupportedException(UnsupportedReason);
    }
}
