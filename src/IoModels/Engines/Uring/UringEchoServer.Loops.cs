using System.Net.Sockets;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>Starting: one ring, one listener descriptor and one thread per loop.</summary>
public sealed unsafe partial class UringEchoServer
{
    /// <summary>
    /// Submission slots per ring. A full queue is submitted and refilled at once, so this bounds only
    /// how many requests go to the kernel per system call: 1,024 covers a burst of a thousand new
    /// connections (one receive each) in one io_uring_enter.
    /// </summary>
    private const uint SubmissionQueueEntries = 1024;

    /// <summary>
    /// Completion slots per ring: 8x the submission queue, since every connection can have a receive
    /// and a send in flight. More completions than this wait in the kernel's overflow list
    /// (IORING_FEAT_NODROP) rather than being lost.
    /// </summary>
    private const uint CompletionQueueEntries = 8192;

    private readonly List<UringLoop> _loops = [];

    protected override bool ReusePort => Options.Loops > 1;

    protected override void StartCore(Socket listener)
    {
        WarmUp();
        try
        {
            for (int i = 0; i < Options.Loops; i++)
            {
                // Loop 0 serves the listener the base bound; every other loop binds its own on the same port.
                Socket? own = i == 0 ? null : SocketSetup.CreateListener(Options with { EndPoint = LocalEndPoint }, reusePort: true);
                try
                {
                    var loop = new UringLoop(i, own ?? listener, own, SubmissionQueueEntries, CompletionQueueEntries);
                    loop.AcceptPolicy = CreateAcceptPolicy(loop.ListenFd);
                    // A multishot accept takes descriptors before we can look at the reserve, so only where the
                    // limit is beyond every connection the server may hold plus a full backlog per listener.
                    loop.MultishotAccept &= !DescriptorHeadroom.CouldReachReserve(Options.MaxConnections + ((long)Options.Backlog * Options.Loops));
                    _loops.Add(loop);
                }
                catch
                {
                    own?.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            _loops.ForEach(loop => loop.Dispose());
            _loops.Clear();
            throw;
        }

        foreach (UringLoop loop in _loops)
        {
            StartThread($"uring-loop-{loop.Index}", () => Run(loop));
        }
    }

    /// <summary>A completion of one of the loop's own requests, not of a connection's.</summary>
    private void OnLoopCompletion(UringLoop loop, UringOp op, io_uring_cqe cqe)
    {
        switch (op)
        {
            case UringOp.Accept:
                OnAccepted(loop, cqe);
                break;
            case UringOp.AcceptRetry:
                ResumeAccepting(loop); // the back-off delay is over (or was cancelled by stop)
                break;
            case UringOp.Wake:
                // Stop wrote the eventfd; the loop sees Stopping or Aborting at the top. It wakes twice
                // (drain, then cut), so the read is armed again until the cut cancels it.
                if (!loop.Aborting)
                {
                    ArmWake(loop);
                }

                break;
            case UringOp.Cancel:
                // 0 or -ENOENT/-EALREADY: either way the cancelled request reports its own completion.
                break;
            default:
                throw new InvalidOperationException($"Unexpected io_uring completion {op} for the loop.");
        }
    }
}
