using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>
/// A loop's pool of receive buffers, lent to the kernel through a provided-buffer ring
/// (IORING_REGISTER_PBUF_RING, Linux 5.19+). A receive names the group, not a buffer: the kernel
/// takes the next buffer from the ring only when data is there, and the completion says which one
/// (its id in cqe.flags). The buffer is then ours until we add it back, after its echo was sent.
/// </summary>
/// <remarks>
/// The ring is an array of <see cref="io_uring_buf"/> shared with the kernel, like the SQ: we write
/// entries and publish the tail with a release store; the kernel keeps the head. Buffers held by
/// the loop (received, not yet echoed) are chained per connection through <see cref="Next"/>, so a
/// connection's queue of echoes costs no memory of its own.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ProvidedBuffers : IDisposable
{
    /// <summary>The buffer group id the loop's receives name. One ring per io_uring, so any value works.</summary>
    public const ushort GroupId = 0;

    /// <summary>
    /// Native memory for a loop's buffers: 1,024 of the default 16 KiB, enough for 256 clients each at
    /// the default 64 KiB output limit, or a thousand each with one echo in flight. Only pages the kernel
    /// wrote are resident, and idle connections hold none.
    /// </summary>
    private const long PoolBytes = 16L * 1024 * 1024;

    /// <summary>The kernel allows at most 32,768 entries; below 16 a few slow readers would hold them all.</summary>
    private const int MaxBuffers = 1024;
    private const int MinBuffers = 16;

    /// <summary>Buffers lent to the kernel at first; <see cref="Widen"/> doubles it when one batch of receives needs more.</summary>
    private const int FirstWindow = 64;

    private const int PageSize = 4096;
    private const int CacheLine = 64;

    private readonly io_uring_buf* _ring;
    private readonly byte* _memory;
    private readonly int _stride; // from one buffer to the next: Size, rounded up (StrideFor)
    private readonly ushort _mask;
    private readonly int[] _spare; // buffers neither held nor lent: a stack, so the most recently used goes back first
    private int _spareCount;
    private bool _windowFull; // the last Refill stopped at the window with spares left: a dry ring then means the window was too small
    private bool _widen; // so it was: the next Refill doubles the window
    private ushort _tail;
    private bool _disposed;

    private ProvidedBuffers(int count, int size)
    {
        Count = count;
        Size = size;
        _mask = (ushort)(count - 1);
        _ring = (io_uring_buf*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(io_uring_buf)), PageSize); // the kernel requires page alignment
        new Span<byte>(_ring, count * sizeof(io_uring_buf)).Clear();
        _stride = StrideFor(size);
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)_stride, PageSize);
        Scratch = (byte*)NativeMemory.Alloc((nuint)size);
        Next = new int[count];
        Length = new int[count];
        _spare = new int[count];
        Window = Math.Min(FirstWindow, count);
    }

    /// <summary>How many buffers the ring has (a power of 2).</summary>
    public int Count { get; }

    /// <summary>Bytes per buffer: the server's receive size.</summary>
    public int Size { get; }

    /// <summary>Buffers the loop holds now (received, echo not yet sent); the rest are lent or spare (<see cref="Free"/>).</summary>
    public int Held { get; private set; }

    /// <summary>Buffers the loop does not hold: lent to the kernel, or spare until the next <see cref="Refill"/>.</summary>
    public int Free => Count - Held;

    /// <summary>Buffers published to the ring and not yet seen in a completion (the kernel may have filled some already).</summary>
    public int Lent { get; private set; }

    /// <summary>How many buffers <see cref="Refill"/> keeps lent.</summary>
    public int Window { get; private set; }

    /// <summary>Per buffer id: the next buffer in its connection's queue, or -1.</summary>
    public int[] Next { get; }

    /// <summary>Per buffer id: how many bytes the kernel received into it.</summary>
    public int[] Length { get; }

    /// <summary>
    /// Where receives that only throw bytes away (after our FIN, while stopping) write: shared by every
    /// connection of the loop, since nobody reads it.
    /// </summary>
    public byte* Scratch { get; }

    /// <summary>
    /// Creates the pool for buffers of <paramref name="size"/> bytes and registers it with
    /// <paramref name="ringFd"/> (from the ring's submitter thread when it is single-issuer). The first
    /// <see cref="Window"/> buffers are lent at once, the rest are spare. Returns null with
    /// <paramref name="errno"/> when the kernel refuses.
    /// </summary>
    public static ProvidedBuffers? TryRegister(int ringFd, int size, out int errno)
    {
        int count = (int)Math.Clamp(PoolBytes / StrideFor(size), MinBuffers, MaxBuffers);
        count = 1 << (31 - int.LeadingZeroCount(count)); // the ring's size must be a power of 2
        var buffers = new ProvidedBuffers(count, size);
        io_uring_buf_reg registration = default;
        registration.ring_addr = (ulong)buffers._ring;
        registration.ring_entries = (uint)count;
        registration.bgid = GroupId;
        if (Register(ringFd, IORING_REGISTER_PBUF_RING, &registration, 1) < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            buffers.Dispose();
            return null;
        }

        for (int id = count - 1; id >= 0; id--)
        {
            buffers._spare[buffers._spareCount++] = id; // buffer 0 on top
        }

        buffers.Refill();
        errno = 0;
        return buffers;
    }

    /// <summary>The memory of buffer <paramref name="id"/>.</summary>
    public byte* Address(int id) => _memory + ((long)id * _stride);

    /// <summary>
    /// From one buffer to the next, so that no buffer straddles a page boundary it does not have to:
    /// a buffer of a page or more starts on a page; a smaller one gets the next power of two (at least a
    /// cache line), which divides the page. With malloc's 16-byte offset every 4 KiB receive spanned two
    /// pages, and the kernel's copy into them took 21% of uring's samples against epoll's 4.6%
    /// (docs/engineering-notes.md, "uring: the receive copy and where the buffers start").
    /// </summary>
    private static int StrideFor(int size) => size >= PageSize
        ? (size + PageSize - 1) / PageSize * PageSize
        : Math.Max(CacheLine, (int)BitOperations.RoundUpToPowerOf2((uint)size));

    /// <summary>Buffer <paramref name="id"/> arrived in a completion: the loop holds it until <see cref="Recycle"/>.</summary>
    public void Take(int id, int length)
    {
        Length[id] = length;
        Next[id] = -1;
        Held++;
        Lent--;
    }

    /// <summary>
    /// Buffer <paramref name="id"/>'s echo is sent (or its connection is gone): it is spare until
    /// <see cref="Refill"/> lends it to the kernel again.
    /// </summary>
    public void Recycle(int id)
    {
        Held--;
        _spare[_spareCount++] = id;
    }

    /// <summary>
    /// Tops the ring up to <see cref="Window"/> buffers, the most recently used first, and publishes
    /// them; the loop calls it before each wait, and before a submit forced by a full queue. Why not
    /// lend every buffer: the ring is first in, first out, so with all 1,024 lent each receive landed
    /// in the buffer used 1,024 receives before (with 4 KiB messages, 4 MiB before: more than a core's
    /// L2 cache). A window a little larger than one batch of receives keeps the copies in memory the
    /// cache still holds (docs/engineering-notes.md, "uring: lending a window of the pool").
    /// </summary>
    public void Refill()
    {
        if (_widen)
        {
            _widen = false;
            Window = Math.Min(Window * 2, Count);
        }

        int lentBefore = Lent;
        while (Lent < Window && _spareCount > 0)
        {
            Add((ushort)_spare[--_spareCount]);
            Lent++;
        }

        if (Lent > lentBefore)
        {
            Publish(); // one release store for the whole batch
        }

        _windowFull = _spareCount > 0;
    }

    /// <summary>
    /// A receive found the ring empty (ENOBUFS) though the last refill left spare buffers: one batch
    /// of receives needed more than the window, so the next <see cref="Refill"/> lends twice as many,
    /// and so on from then (at most all of them). Once per refill, however many receives ran dry
    /// before it. It never narrows again: a burst that came once may come again, and each dry ring
    /// costs a receive re-armed.
    /// </summary>
    public void Widen() => _widen |= _windowFull;

    /// <summary>The buffer id in the ring slot <paramref name="back"/> places before the tail: 0 is the one published last. For tests.</summary>
    internal int PublishedId(int back) => _ring[(ushort)(_tail - 1 - back) & _mask].bid;

    private void Add(ushort id)
    {
        // Only addr, len and bid: entry 0's last two bytes are the ring's tail, which Publish writes.
        io_uring_buf* entry = &_ring[_tail & _mask];
        entry->addr = (ulong)Address(id);
        entry->len = (uint)Size;
        entry->bid = id;
        _tail++;
    }

    // Release: the entries written above are visible to the kernel before the tail that covers them.
    private void Publish() => Volatile.Write(ref ((io_uring_buf_ring*)_ring)->tail, _tail);

    /// <summary>Frees the ring and the buffers: only after the io_uring is closed, so the kernel writes into none.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.AlignedFree(_ring);
        NativeMemory.AlignedFree(_memory);
        NativeMemory.Free(Scratch);
    }
}
