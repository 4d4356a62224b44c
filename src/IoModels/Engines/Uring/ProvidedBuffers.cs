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

    private const int PageSize = 4096;
    private const int CacheLine = 64;

    private readonly io_uring_buf* _ring;
    private readonly byte* _memory;
    private readonly int _stride; // from one buffer to the next: Size, rounded up (StrideFor)
    private readonly ushort _mask;
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
    }

    /// <summary>How many buffers the ring has (a power of 2).</summary>
    public int Count { get; }

    /// <summary>Bytes per buffer: the server's receive size.</summary>
    public int Size { get; }

    /// <summary>Buffers the loop holds now (received, echo not yet sent); the rest are the kernel's to fill.</summary>
    public int Held { get; private set; }

    /// <summary>Buffers in the ring for the kernel to take.</summary>
    public int Free => Count - Held;

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
    /// <paramref name="ringFd"/> (from the ring's submitter thread when it is single-issuer). Every buffer
    /// starts in the ring. Returns null with <paramref name="errno"/> when the kernel refuses.
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

        for (int id = 0; id < count; id++)
        {
            buffers.Add((ushort)id);
        }

        buffers.Publish();
        errno = 0;
        return buffers;
    }

    /// <summary>The memory of buffer <paramref name="id"/>.</summary>
    public byte* Address(int id) => _memory + ((long)id * _stride);

    /// <summary>
    /// Where buffers start: a buffer of a page or more on a page, a smaller one on a cache line. The
    /// kernel's copy of a receive into a buffer that straddles a page more than it must is slower: with
    /// malloc's 16-byte offset, 4 KiB receives spanned two pages and the copy into them took four times
    /// as long (docs/engineering-notes.md, "uring: the receive copy and where the buffers start").
    /// </summary>
    private static int StrideFor(int size)
    {
        int unit = size >= PageSize ? PageSize : CacheLine;
        return (size + unit - 1) / unit * unit;
    }

    /// <summary>Buffer <paramref name="id"/> arrived in a completion: the loop holds it until <see cref="Recycle"/>.</summary>
    public void Take(int id, int length)
    {
        Length[id] = length;
        Next[id] = -1;
        Held++;
    }

    /// <summary>Gives buffer <paramref name="id"/> back to the kernel: its echo is sent (or its connection is gone).</summary>
    public void Recycle(int id)
    {
        Held--;
        Add((ushort)id);
        Publish();
    }

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
