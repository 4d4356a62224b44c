using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// The one accept policy every engine follows, whatever its accept call (blocking, non-blocking,
/// awaited, a raw accept4 or an io_uring completion): it keeps the descriptor reserve before each
/// accept, and turns each failure into one <see cref="AcceptStep"/>, counting and logging it here so
/// that no engine classifies an accept error itself. One instance per accepting thread or loop: it
/// holds that loop's back-off.
/// </summary>
/// <remarks>
/// The rules, in the order they are applied to a failure:
/// 1. would block: nobody is waiting (<see cref="AcceptStep.Done"/>);
/// 2. the listener was closed or shut down while stopping (aborted, EBADF, EINVAL): <see cref="AcceptStep.Stop"/>;
/// 3. interrupted (EINTR) before anyone was taken: <see cref="AcceptStep.Retry"/>;
/// 4. that one client is gone (reset or aborted in the backlog, a protocol error, a firewall's EPERM):
///    logged at debug, <see cref="AcceptStep.Skip"/> to the next one, since each such failure takes
///    one entry off the queue and cannot spin;
/// 5. out of descriptors or kernel memory: retrying at once would spin on the same error, so
///    <see cref="AcceptStep.Pause"/> for the back-off's delay (10 ms doubling to 1 s), logged once a burst;
/// 6. anything else is a fault (counted and logged as a bug) and pauses like rule 5, so the loop keeps
///    serving the connections it has and tries again later.
/// Before each accept, <see cref="BeforeAccept"/> pauses the same way while the reserve of descriptors
/// the runtime needs is reached (<see cref="DescriptorHeadroom"/>).
/// </remarks>
public sealed class AcceptPolicy
{
    private readonly EchoServerBase _server;
    private readonly DescriptorHeadroom _headroom;
    private readonly AcceptBackoff _backoff = new();
    private readonly bool _probeOnlyAfterAccepts;
    private readonly LocalCounters? _counters;

    /// <param name="server">Whose statistics, log and fault count it uses, and whether it is stopping.</param>
    /// <param name="headroom">The descriptor reserve for this listener.</param>
    /// <param name="probeOnlyAfterAccepts">
    /// True for a loop that calls accept whether or not a client waits (nonblocking's sweep): the
    /// reserve is probed only after an accept succeeded (<see cref="DescriptorHeadroom.IsLowBeforeAccept"/>).
    /// </param>
    /// <param name="counters">
    /// The loop's own counters, for a loop that accepts on every pass (nonblocking's sweep): accept
    /// calls and would-blocks are counted there and published with the loop's other counts, not with
    /// two shared interlocked adds per pass. Null: counted on the server's statistics at once.
    /// </param>
    internal AcceptPolicy(EchoServerBase server, DescriptorHeadroom headroom, bool probeOnlyAfterAccepts, LocalCounters? counters = null)
    {
        _server = server;
        _headroom = headroom;
        _probeOnlyAfterAccepts = probeOnlyAfterAccepts;
        _counters = counters;
    }

    /// <summary>
    /// Before an accept: <see cref="AcceptStep.Done"/> means go ahead; <see cref="AcceptStep.Pause"/>
    /// means the descriptor reserve is reached, so leave the clients queued in the kernel for the delay.
    /// </summary>
    public AcceptDecision BeforeAccept()
    {
        bool low = _probeOnlyAfterAccepts ? _headroom.IsLowBeforeAccept() : _headroom.IsLow();
        return low ? Exhausted(SocketError.TooManyOpenSockets) : AcceptDecision.Done;
    }

    /// <summary>
    /// The process ran out of something a new connection needs after it was accepted (a thread, for
    /// the blocking model): pause accepting as on EMFILE, counted and logged as a back-off.
    /// </summary>
    public AcceptDecision Exhausted(SocketError error) =>
        AcceptDecision.PauseFor(_backoff.Fail(_server.Log, _server.Model, _server.Statistics, error));

    /// <summary>An accept returned a connection: counted, and any back-off burst is over.</summary>
    public void Accepted()
    {
        Count(EchoCounter.AcceptCalls);
        _backoff.Succeeded();
        _headroom.Accepted();
    }

    /// <summary>An accept failed with <paramref name="error"/>: counted, logged where the rules say, and decided.</summary>
    public AcceptDecision Failed(SocketError error)
    {
        Count(EchoCounter.AcceptCalls);
        if (error is SocketError.WouldBlock or SocketError.TryAgain)
        {
            Count(EchoCounter.AcceptWouldBlock);
            return AcceptDecision.Done;
        }

        if (_server.Stopping && (SocketErrors.IsAborted(error) || error == SocketError.InvalidArgument))
        {
            return AcceptDecision.Stop;
        }

        if (error == SocketError.Interrupted)
        {
            return AcceptDecision.Retry;
        }

        if (SocketErrors.IsConnectionLost(error) || error == SocketError.AccessDenied)
        {
            EchoLog.AcceptFailed(_server.Log, _server.Model, new SocketErrorCode(error));
            return AcceptDecision.Skip;
        }

        if (!SocketErrors.IsResourceExhaustion(error))
        {
            _server.ReportFault(new SocketException((int)error));
        }

        return Exhausted(error);
    }

    /// <summary><see cref="Failed(SocketError)"/> for a raw call's errno, through the one errno table.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("macos")]
    [System.Runtime.Versioning.SupportedOSPlatform("freebsd")]
    public AcceptDecision FailedWithErrno(int errno) => Failed(Interop.Libc.ToSocketError(errno));

    private void Count(EchoCounter counter)
    {
        if (_counters is null)
        {
            _server.Statistics.Increment(counter);
        }
        else
        {
            _counters.Increment(counter);
        }
    }
}
