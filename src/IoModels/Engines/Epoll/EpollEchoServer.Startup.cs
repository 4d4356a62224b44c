using System.Net.Sockets;
using static IoModels.Interop.Libc;

namespace IoModels.Epoll;

/// <summary>Start-up (a loop per thread, each with its kernel queue and, on Linux, its own listener), the wait's timeout, and the wake-ups that stop sends.</summary>
public sealed unsafe partial class EpollEchoServer
{
    /// <summary>On Linux with several loops, every loop has its own listener sharing the port.</summary>
    protected override bool ReusePort => OperatingSystem.IsLinux() && Options.Loops > 1;

    protected override void StartCore(Socket listener)
    {
        var loops = new List<EventLoop>(Options.Loops);
        try
        {
            for (int i = 0; i < Options.Loops; i++)
            {
                int listenerFd = -1;
                if (i == 0)
                {
                    listenerFd = TakeDescriptor(listener);
                }
                else if (OperatingSystem.IsLinux())
                {
                    using Socket extra = SocketSetup.CreateListener(Options with { EndPoint = LocalEndPoint }, reusePort: true);
                    listenerFd = TakeDescriptor(extra);
                }

                loops.Add(new EventLoop(i, listenerFd, CreateQueue(listenerFd), Options.BufferSize, CreateAcceptPolicy(listenerFd)));
            }
        }
        catch
        {
            loops.ForEach(loop => loop.Dispose());
            throw;
        }

        _loops = [.. loops];
        foreach (EventLoop loop in _loops)
        {
            StartThread($"epoll-loop-{loop.Index}", () => Run(loop));
        }
    }

    /// <summary>Block until the next idle sweep or the end of an accept back-off, whichever comes first; no timeout otherwise.</summary>
    private int WaitTimeout(EventLoop loop)
    {
        long deadline = Idle.Enabled ? loop.NextIdleSweep : long.MaxValue;
        if (!loop.ListenerArmed)
        {
            deadline = Math.Min(deadline, loop.AcceptResumeAt);
        }

        return deadline == long.MaxValue ? -1 : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
    }

    protected override void BeginDrain() => WakeLoops(); // each loop sees Stopping and begins to drain

    protected override Task StopCoreAsync()
    {
        WakeLoops(); // each loop sees Aborting, resets what it still owns and ends; the base joins it
        return Task.CompletedTask;
    }

    private void WakeLoops()
    {
        foreach (EventLoop loop in _loops)
        {
            loop.Queue.Wake();
        }
    }

    /// <summary>
    /// A raw descriptor for a listening socket, owned by the loop: a duplicate, so the managed socket
    /// can be disposed (the base does, on stop) without closing the descriptor under a running loop.
    /// </summary>
    private static int TakeDescriptor(Socket listener)
    {
        listener.Blocking = false; // the flag lives on the shared open file, so the duplicate is non-blocking too
        int fd = Fcntl((int)listener.SafeHandle.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
        return fd >= 0 ? fd : throw PlatformException.FromLastError("fcntl(F_DUPFD_CLOEXEC)");
    }

    private IReadinessQueue CreateQueue(int listenerFd)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return new EpollReadinessQueue(_edgeTriggered, MaxEventsPerWait);
            }

            if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
            {
                return new KqueueReadinessQueue(_edgeTriggered, MaxEventsPerWait);
            }

            throw new PlatformNotSupportedException(EpollModel.UnsupportedReason);
        }
        catch
        {
            if (listenerFd >= 0)
            {
                _ = Interop.Libc.Close(listenerFd); // nobody owns it yet
            }

            throw;
        }
    }
}
