using System.Buffers;

namespace IoModels;

/// <summary>
/// A connection's bounded queue of bytes received and not yet echoed: a ring of at most
/// <see cref="Capacity"/> bytes. Engines that send without blocking keep here what the kernel did
/// not take, and stop reading a connection while <see cref="FreeSpace"/> is zero, which is what turns
/// a client that stops reading into backpressure instead of unbounded memory.
/// </summary>
/// <remarks>
/// Storage is rented from a pool shared by every connection on first use and returned whenever the
/// queue empties, so an idle connection holds no buffer. Not thread-safe: one connection, one owner.
/// Every change is mirrored into <see cref="EchoCounter.BufferedBytes"/> when statistics are given.
/// </remarks>
public sealed class OutputBuffer : IDisposable
{
    /// <summary>
    /// The pool storage comes from. Not <see cref="ArrayPool{T}.Shared"/>: its per-core caches hold a
    /// few dozen arrays of a size, so a thousand connections each holding output at once (an engine
    /// that keeps the echo queued until its send completes, as io_uring does) missed the pool on
    /// nearly every message and allocated a fresh 64 KiB array, zeroed, and the GC churned. This pool
    /// keeps up to 1,024 arrays per size: what a thousand busy connections need, retained only if they
    /// were ever in use at once.
    /// </summary>
    private static readonly ArrayPool<byte> s_pool = ArrayPool<byte>.Create(maxArrayLength: 256 * 1024 * 1024, maxArraysPerBucket: 1024);

    private readonly EchoStatistics? _statistics;
    private byte[]? _storage;
    private int _head;

    /// <summary>Creates an empty queue that will hold at most <paramref name="capacity"/> bytes.</summary>
    public OutputBuffer(int capacity, EchoStatistics? statistics = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _statistics = statistics;
    }

    /// <summary>The bound: the most bytes this queue will hold.</summary>
    public int Capacity { get; }

    /// <summary>Bytes queued.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes that can still be queued.</summary>
    public int FreeSpace => Capacity - Count;

    /// <summary>Nothing is queued.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Nothing more can be queued until some is sent.</summary>
    public bool IsFull => Count == Capacity;

    /// <summary>True while storage is rented (false for an empty queue).</summary>
    public bool HoldsStorage => _storage is not null;

    /// <summary>
    /// The largest contiguous free region, to receive into directly; follow with <see cref="Commit"/>.
    /// Empty when the queue is full. Rents storage if none is held.
    /// </summary>
    public Span<byte> GetWriteSpan()
    {
        if (IsFull)
        {
            return Span<byte>.Empty;
        }

        _storage ??= s_pool.Rent(Capacity);
        int tail = (_head + Count) % Capacity;
        int contiguous = tail >= _head ? Capacity - tail : _head - tail;
        return _storage.AsSpan(tail, Math.Min(contiguous, FreeSpace));
    }

    /// <summary>Marks <paramref name="count"/> bytes written into the last <see cref="GetWriteSpan"/> as queued.</summary>
    public void Commit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, FreeSpace);
        Count += count;
        _statistics?.Add(EchoCounter.BufferedBytes, count);
        ReleaseIfEmpty();
    }

    /// <summary>Queues all of <paramref name="data"/>; it must fit in <see cref="FreeSpace"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(data.Length, FreeSpace);
        while (!data.IsEmpty)
        {
            Span<byte> target = GetWriteSpan();
            int n = Math.Min(target.Length, data.Length);
            data[..n].CopyTo(target);
            Commit(n);
            data = data[n..];
        }
    }

    /// <summary>The oldest contiguous queued bytes, to send; follow with <see cref="Consume"/>.</summary>
    public ReadOnlySpan<byte> GetReadSpan() =>
        _storage is null ? ReadOnlySpan<byte>.Empty : _storage.AsSpan(_head, Math.Min(Count, Capacity - _head));

    /// <summary>Drops <paramref name="count"/> bytes from the front after they were sent.</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        _head = (_head + count) % Capacity;
        Count -= count;
        _statistics?.Add(EchoCounter.BufferedBytes, -count);
        ReleaseIfEmpty();
    }

    /// <summary>Returns the storage to the pool when nothing is queued (an idle connection holds no buffer).</summary>
    public void ReleaseIfEmpty()
    {
        if (Count == 0 && _storage is not null)
        {
            _head = 0;
            s_pool.Return(_storage);
            _storage = null;
        }
    }

    /// <summary>Drops whatever is queued (the connection is closing) and returns the storage.</summary>
    public void Dispose()
    {
        if (Count != 0)
        {
            _statistics?.Add(EchoCounter.BufferedBytes, -Count);
            Count = 0;
        }

        ReleaseIfEmpty();
    }
}
