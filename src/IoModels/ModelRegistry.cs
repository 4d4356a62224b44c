using IoModels.Async;
using IoModels.Blocking;
using IoModels.Uring;
using static IoModels.EchoCounter;

namespace IoModels;

/// <summary>
/// Every model this build knows, in teaching order. The CLI lists and starts models from here, and
/// the conformance suite runs every test against every entry: adding an engine is adding a line.
/// </summary>
public static class ModelRegistry
{
    /// <summary>The model <c>serve</c> uses when none is named: it runs everywhere and scales.</summary>
    public const string DefaultModel = "async";

    public static IReadOnlyList<ModelInfo> All { get; } =
    [
        new("blocking", "one thread per connection, blocked in Receive and Send (--workers N: a fixed pool)",
            o => new BlockingEchoServer(o), [Threads, PeakThreads, ConnectionsActive, ReceiveCalls, SendCalls]),
        new("async", "async/await over SocketAsyncEventArgs: no thread waits for any one connection",
            o => new AsyncEchoServer(o), [ConnectionsActive, Completions, ReceiveCalls, SendCalls, Threads]),
        new("uring", "io_uring completion: the kernel receives into our buffers and reports each finished operation (--loops N: N rings)",
            o => OperatingSystem.IsLinux() ? new UringEchoServer(o) : throw new PlatformNotSupportedException("io_uring is Linux only."),
            [Submissions, Completions, Waits, ReadyEvents, ReceiveCalls, SendCalls, Threads], UringSupport.UnsupportedReason, "io_uring"),
    ];

    /// <summary>The model named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ModelInfo? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The names, comma-separated, for error messages.</summary>
    public static string Names(bool supportedOnly = false) =>
        string.Join(", ", All.Where(m => !supportedOnly || m.IsSupported).Select(m => m.Name));
}
