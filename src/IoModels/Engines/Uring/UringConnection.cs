using System.Net;
using System.Runtime.InteropServices;

namespace IoModels.Uring;

/// <summary>
/// One connection of the <c>uring</c> engine: its descriptor, its queue of echoes, and which
/// operations the kernel holds for it right now. Owned by one event loop; not thread-safe.
/// </summary>
/// <remarks>
/// With provided buffers (<see cref="OwnsBuffers"/> false) the connection has no buffer of its own:
/// its echo queue is a chain of the loop's buffers (<see cref="Head"/> to <see cref="Tail"/>, linked
/// through <see cref="ProvidedBuffers.Next"/>), each sent from where the kernel received it.
/// Otherwise it owns a receive and a send buffer of native memory, not managed arrays: the kernel
/// writes into the receive buffer (and reads the send buffer) at some later moment of its choosing,
/// while the GC may move managed arrays at any time. Native memory never moves, and it is freed only
/// after the close completed, when no operation of this connection can still touch it.
/// </remarks>
internal sealed unsafe class UringConnection : Connection, IDisposable
{
    private readonly byte* _memory;

    public UringConnection(long id, int fd, EndPoint? remote, EchoServerOptions options, EchoStatistics statistics, bool ownsBuffers)
        : base(id, remote)
    {
        Fd = fd;
        BufferSize = options.BufferSize;
        OutputLimit = options.OutputBufferLimit;
        OwnsBuffers = ownsBuffers;
        if (ownsBuffers)
        {
            Output = new OutputBuffer(options.OutputBufferLimit, statistics);
            _memory = (byte*)NativeMemory.Alloc((nuint)BufferSize * 2);
            ReceiveBuffer = _memory;
            SendBuffer = _memory + BufferSize;
        }

        Touch();
    }

    /// <summary>True on the path without provided buffers: the connection has its own receive and send buffers.</summary>
    public bool OwnsBuffers { get; }

    /// <summary>The output-buffer limit: with provided buffers, the most buffer space the connection may hold.</summary>
    public int OutputLimit { get; }

    /// <summary>Provided buffers: the oldest held buffer (its echo is sent next), or -1 for none.</summary>
    public int Head { get; set; } = -1;

    /// <summary>Provided buffers: the newest held buffer, or -1.</summary>
    public int Tail { get; set; } = -1;

    /// <summary>Provided buffers: bytes of <see cref="Head"/> the kernel already sent.</summary>
    public int HeadOffset { get; set; }

    /// <summary>Provided buffers: how many of the loop's buffers this connection holds.</summary>
    public int HeldBuffers { get; set; }

    /// <summary>Provided buffers: received bytes not yet sent, over the held buffers.</summary>
    public int Queued { get; set; }

    /// <summary>Provided buffers: the multishot receive was cancelled for backpressure and has not ended yet.</summary>
    public bool ReceiveCancelled { get; set; }

    /// <summary>Provided buffers: the ring was empty (ENOBUFS); the receive is re-armed when a buffer comes back.</summary>
    public bool WaitingForBuffers { get; set; }

    /// <summary>Received and not yet echoed, on either path.</summary>
    public long Unechoed => OwnsBuffers ? Output!.Count : Queued;

    /// <summary>Nothing received waits to be echoed.</summary>
    public bool NothingQueued => Unechoed == 0;

    public int Fd { get; }

    public int BufferSize { get; }

    /// <summary>Received, uppercased, not yet sent: the queue that backpressure bounds (own buffers only).</summary>
    public OutputBuffer? Output { get; }

    /// <summary>Where the kernel puts received bytes (BufferSize bytes, never moves).</summary>
    public byte* ReceiveBuffer { get; }

    /// <summary>The front of <see cref="Output"/> copied here for the kernel to send from.</summary>
    public byte* SendBuffer { get; }

    /// <summary>Bytes copied into <see cref="SendBuffer"/> for the send in progress.</summary>
    public int SendStaged { get; set; }

    /// <summary>Of <see cref="SendStaged"/>, bytes the kernel already took (a partial send leaves the rest).</summary>
    public int SendOffset { get; set; }

    public bool ReceivePending { get; set; }

    public bool SendPending { get; set; }

    public bool ShutdownPending { get; set; }

    public bool CloseSubmitted { get; set; }

    /// <summary>Ending: no new receive or send is started; the close follows once none is in flight.</summary>
    public bool Closing { get; set; }

    public CloseReason Reason { get; set; }

    /// <summary>Bytes moved now, for the idle rule.</summary>
    public void Touch() => LastActive = Environment.TickCount64;

    /// <summary>Echoes queued or in flight: sending; otherwise as the base says.</summary>
    public override ConnectionActivity Activity => !SendShut && (SendPending || !NothingQueued) ? ConnectionActivity.Sending : base.Activity;

    /// <summary>Frees the buffers. Only after the close completed: nothing in the kernel refers to them then.</summary>
    public void Dispose()
    {
        Output?.Dispose();
        NativeMemory.Free(_memory); // null on the provided-buffer path: nothing to free
    }
}
