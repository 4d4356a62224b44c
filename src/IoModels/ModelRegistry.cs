using IoModels.Async;
using IoModels.Blocking;
using IoModels.NonBlocking;
using IoModels.Select;
using IoModels.Epoll;
using IoModels.Signal;
using IoModels.Uring;
using static IoModels.EchoCounter;

namespace IoModels;

/// <summary>
/// Every model this build knows, in teaching order. The CLI lists and starts models from here, and
/// the conformance suite runs every test against every entry: adding an engine is adding a line.
/// Each entry declares what the model is and can do: the options it takes, the counters it publishes,
/// the platforms it is built for and the clients it serves at once. Its texts name no command-line
/// flags: a front end names an option by its own spelling.
/// </summary>
public static class ModelRegistry
{
    /// <summary>The model <c>serve</c> uses when none is named: it runs everywhere and scales.</summary>
    public const string DefaultModel = "async";

    public static IReadOnlyList<ModelInfo> All { get; } =
    [
        new("blocking", "one thread per connection, blocked in Receive and Send, or a fixed pool of worker threads",
            o => new BlockingEchoServer(o), [Threads, PeakThreads, ConnectionsActive, ReceiveCalls, SendCalls],
            options: [EngineOption.Workers], maxClients: o => o.Workers > 0 ? Math.Min(o.Workers, o.MaxConnections) : o.MaxConnections),
        new("nonblocking", "one thread sweeps every non-blocking socket, asking again and again; spins a core unless it sleeps after an idle sweep",
            o => new NonBlockingEchoServer(o), [Sweeps, ReceiveCalls, SendCalls, WouldBlock, AcceptWouldBlock, Threads],
            options: [EngineOption.PollInterval]),
        new("select", "one thread waits in Socket.Select over every socket, then serves the ready ones",
            o => new SelectEchoServer(o), [Waits, SocketsScanned, ReadyEvents, WaitTimeouts, ReceiveCalls, Threads],
            mechanism: SelectEchoServer.Mechanism, options: [EngineOption.SelectTimeout],
            maxClients: o => Math.Min(o.MaxConnections, SelectEchoServer.MaxSocketsPerList - 1)),
        new("epoll", "event loops blocked in epoll_wait (kqueue on macOS/FreeBSD), told only which sockets are ready, level- or edge-triggered",
            EpollModel.Create, [Waits, ReadyEvents, ReceiveCalls, SendCalls, WouldBlock, ConnectionsActive, Threads],
            EpollModel.UnsupportedReason, EpollModel.Mechanism, [EngineOption.EdgeTriggered, EngineOption.Loops], ["Linux", "macOS", "FreeBSD"]),
        new("signal", "SIGIO says something is ready, not what: on every signal one thread tries every socket",
            o =>
            {
                if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                {
                    return new SignalEchoServer(o);
                }

                throw new PlatformNotSupportedException(); // not reached: Create checks the reason below first
            },
            [ConnectionsActive, Signals, Waits, Sweeps, SocketsScanned, ReadyEvents, WouldBlock, ReceiveCalls, SendCalls],
            OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? null : "SIGIO on sockets (fcntl F_SETOWN and O_ASYNC) is driven on Linux and macOS only",
            "SIGIO, via fcntl F_SETOWN and O_ASYNC", platforms: ["Linux", "macOS"]),
        new("async", "async/await over SocketAsyncEventArgs: no thread waits for any one connection",
            o => new AsyncEchoServer(o), [ConnectionsActive, Completions, ReceiveCalls, SendCalls, Threads],
            options: [EngineOption.InlineCompletions]),
        new("uring", "io_uring completion: the kernel receives into our buffers and reports each finished operation, one ring per loop",
            o => OperatingSystem.IsLinux() ? new UringEchoServer(o) : throw new PlatformNotSupportedException("io_uring is Linux only."),
            [Submissions, Completions, Waits, ReadyEvents, ReceiveCalls, SendCalls, Threads], UringSupport.UnsupportedReason, UringSupport.Mechanism,
            [EngineOption.Loops], ["Linux"], minimumKernel: UringSupport.MinimumKernel),
    ];

    /// <summary>The model named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ModelInfo? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The models that take <paramref name="option"/>, for messages: "epoll", "epoll or uring".</summary>
    public static string NamesTaking(EngineOption option)
    {
        string[] names = [.. All.Where(m => m.Takes(option)).Select(m => m.Name)];
        return names.Length <= 1 ? string.Concat(names) : $"{string.Join(", ", names[..^1])} or {names[^1]}";
    }

    /// <summary>The names, comma-separated, for error messages.</summary>
    public static string Names(bool supportedOnly = false) =>
        string.Join(", ", All.Where(m => !supportedOnly || m.IsSupported).Select(m => m.Name));
}
