using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels.Uring;

/// <summary>
/// What one event loop of the <c>uring</c> engine owns: its ring, its own descriptor of the
/// listening socket, the eventfd that stop writes to wake it, its connections, and the count of
/// operations the kernel still holds (the loop may end only when that is zero).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class UringLoop : IDisposable
{
    private readonly object _wakeGate = new();
    private readonly LocalCounters _counts = new();
    private readonly Socket? _ownListener;
    private bool _disposed;
    private bool _listenerClosed;

    /// <summary>
    /// Creates the ring and the wake eventfd and duplicates the listener's descriptor. The duplicate
    /// is the loop's own: the server may close its Socket while an accept is still in the ring, and a
    /// closed descriptor number can be reused by anything the process opens next.
    /// </summary>
    public UringLoop(int index, Socket listener, Socket? ownListener, uint sqEntries, uint cqEntries)
    {
        Index = index;
        _ownListener = ownListener;
        ListenFd = -1;
        WakeFd = -1;
        try
        {
            Ring = new Ring(sqEntries, cqEntries, deferTaskRun: true);
            WakeFd = Interop.EventFd.Create(0, Interop.EventFd.EFD_CLOEXEC);
            if (WakeFd < 0)
            {
                throw PlatformException.FromLastError("eventfd");
            }

            ListenFd = Interop.Libc.Dup((int)listener.Handle);
            if (ListenFd < 0)
            {
                throw PlatformException.FromLastError("dup");
            }

            // Small native blocks the kernel reads or writes later: the eventfd counter and the back-off delay.
            WakeBuffer = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
            RetryDelay = (Interop.IoUring.__kernel_timespec*)NativeMemory.AllocZeroed((nuint)sizeof(Interop.IoUring.__kernel_timespec));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Index { get; }

    public Ring Ring { get; } = null!;

    public int ListenFd { get; }

    public int WakeFd { get; }

    public ulong* WakeBuffer { get; }

    public Interop.IoUring.__kernel_timespec* RetryDelay { get; }

    public Dictionary<long, UringConnection> Connections { get; } = [];

    /// <summary>This loop's accept policy (its back-off and the descriptor reserve), set once the listener is known.</summary>
    public AcceptPolicy AcceptPolicy { get; set; } = null!;

    /// <summary>A back-off's retry timer is armed and no accept is: one pause at a time, however many completions ask.</summary>
    public bool AcceptPaused { get; set; }

    /// <summary>Starts as <see cref="UringSupport.MultishotAccept"/>; cleared if the kernel refuses it.</summary>
    public bool MultishotAccept { get; set; } = UringSupport.MultishotAccept;

    /// <summary>Operations prepared and not yet finally completed (a multishot accept counts until its last completion).</summary>
    public int InFlight { get; set; }

    /// <summary>Stop was seen: no accepting, no new receive for echoing; each connection sends what it has, then FIN.</summary>
    public bool Draining { get; set; }

    /// <summary>The drain is over (every connection closed, or the deadline passed): what is left is cut, then the loop ends.</summary>
    public bool Aborting { get; set; }

    /// <summary>When the next idle sweep is due (Environment.TickCount64).</summary>
    public long NextSweep { get; set; }

    /// <summary>The loop's pool of receive buffers, lent to the kernel; null on the path where each connection owns its buffers.</summary>
    public ProvidedBuffers? Buffers { get; set; }

    /// <summary>Connections whose multishot receive ended with ENOBUFS: each buffer given back re-arms one.</summary>
    public Queue<UringConnection> WaitingForBuffers { get; } = new();

    /// <summary>Requests prepared since the loop started (the trace reports them per wait).</summary>
    public long Submitted { get; set; }

    /// <summary>
    /// Counts locally; <see cref="FlushCounts"/> publishes once per wait. An echo touches several
    /// counters, and each shared update is an interlocked instruction on a cache line every loop writes.
    /// </summary>
    public void Count(EchoCounter counter, long delta = 1) => _counts.Add(counter, delta);

    /// <summary>Adds what was counted since the last flush to <paramref name="statistics"/>: before each wait, and at the end.</summary>
    public void FlushCounts(EchoStatistics statistics) => _counts.FlushTo(statistics);

    /// <summary>Wakes the loop from its wait (called by stop, on another thread). Does nothing once disposed.</summary>
    public void Wake()
    {
        lock (_wakeGate)
        {
            if (!_disposed && Interop.EventFd.Write(WakeFd, 1) < 0)
            {
                throw PlatformException.FromLastError("eventfd_write");
            }
        }
    }

    /// <summary>
    /// Stops listening, once the accept has ended at stop: no request names the descriptor any more.
    /// Until then the loop's duplicate kept the listening socket open after the server closed its own,
    /// so clients would have waited in a backlog nobody accepts from.
    /// </summary>
    public void CloseListener()
    {
        if (_listenerClosed)
        {
            return;
        }

        _listenerClosed = true;
        _ = Interop.Libc.Close(ListenFd);
        _ownListener?.Dispose();
    }

    /// <summary>Closes the ring (only once the kernel holds no operation of ours), the descriptors and the native blocks.</summary>
    public void Dispose()
    {
        lock (_wakeGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Ring?.Dispose();
            Buffers?.Dispose(); // after the ring: closing it is what stops the kernel writing into them
            if (WakeFd >= 0)
            {
                _ = Interop.Libc.Close(WakeFd);
            }

            if (ListenFd >= 0 && !_listenerClosed)
            {
                _ = Interop.Libc.Close(ListenFd);
            }

            _ownListener?.Dispose();
            NativeMemory.Free(WakeBuffer);
            NativeMemory.Free(RetryDelay);
        }
    }
}
