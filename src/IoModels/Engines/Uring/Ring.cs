using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>
/// One io_uring instance: the submission queue (SQ) we fill and the kernel drains, and the completion
/// queue (CQ) the kernel fills and we drain, both mapped into our memory. Single-threaded: one event
/// loop owns a ring; only the kernel is on the other side.
/// </summary>
/// <remarks>
/// The rings are lock-free single-producer/single-consumer queues shared with the kernel. The ABI
/// requires: write an SQE, then publish the SQ tail with a release store (so the kernel never sees the
/// tail before the entry); read the CQ tail with an acquire load (so we never read an entry before the
/// kernel finished writing it), then publish the CQ head with a release store (so the kernel does not
/// reuse the slot while we are still reading it). Volatile.Read/Write are exactly acquire/release.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class Ring : IDisposable
{
    private readonly int _fd;
    private readonly void* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly void* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly io_uring_sqe* _sqes;
    private readonly nuint _sqesSize;

    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly io_uring_cqe* _cqes;

    private uint _sqTailLocal;
    private uint _cqHeadLocal;
    private bool _disposed;

    /// <summary>Creates the ring and maps its queues. Frees everything it made if any step fails.</summary>
    /// <exception cref="PlatformException">io_uring_setup or mmap failed.</exception>
    public Ring(uint sqEntries, uint cqEntries, bool deferTaskRun = false)
    {
        io_uring_params parameters = default;
        parameters.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        parameters.cq_entries = cqEntries;
        if (deferTaskRun)
        {
            parameters.flags |= IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        }

        _fd = Setup(sqEntries, &parameters);
        if (_fd < 0 && deferTaskRun && Marshal.GetLastPInvokeError() == Interop.Libc.EINVAL)
        {
            // Before 6.1 the kernel does not know these flags: an ordinary ring, enabled from the start.
            parameters = default;
            parameters.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
            parameters.cq_entries = cqEntries;
            _fd = Setup(sqEntries, &parameters);
        }

        if (_fd < 0)
        {
            throw PlatformException.FromLastError("io_uring_setup");
        }

        IsDisabled = (parameters.flags & IORING_SETUP_R_DISABLED) != 0;

        try
        {
            Features = parameters.features;
            _sqRingSize = parameters.sq_off.array + (parameters.sq_entries * sizeof(uint));
            _cqRingSize = parameters.cq_off.cqes + (parameters.cq_entries * (uint)sizeof(io_uring_cqe));
            bool singleMmap = (parameters.features & IORING_FEAT_SINGLE_MMAP) != 0;
            if (singleMmap)
            {
                // Since 5.4 both rings live in one mapping: map it once, as large as the larger of the two.
                _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
            }

            _sqRing = Map(_sqRingSize, IORING_OFF_SQ_RING);
            _cqRing = singleMmap ? _sqRing : Map(_cqRingSize, IORING_OFF_CQ_RING);
            _sqesSize = parameters.sq_entries * (nuint)sizeof(io_uring_sqe);
            _sqes = (io_uring_sqe*)Map(_sqesSize, IORING_OFF_SQES);

            byte* sq = (byte*)_sqRing;
            _sqHead = (uint*)(sq + parameters.sq_off.head);
            _sqTail = (uint*)(sq + parameters.sq_off.tail);
            _sqMask = *(uint*)(sq + parameters.sq_off.ring_mask);
            _sqEntries = *(uint*)(sq + parameters.sq_off.ring_entries);
            byte* cq = (byte*)_cqRing;
            _cqHead = (uint*)(cq + parameters.cq_off.head);
            _cqTail = (uint*)(cq + parameters.cq_off.tail);
            _cqMask = *(uint*)(cq + parameters.cq_off.ring_mask);
            _cqes = (io_uring_cqe*)(cq + parameters.cq_off.cqes);
            CqEntries = *(uint*)(cq + parameters.cq_off.ring_entries);

            // The SQ ring holds indexes into the SQE array. Slot i always names SQE i, so it is filled once.
            uint* array = (uint*)(sq + parameters.sq_off.array);
            for (uint i = 0; i < _sqEntries; i++)
            {
                array[i] = i;
            }

            _sqTailLocal = *_sqTail;
            _cqHeadLocal = *_cqHead;
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>The ring's descriptor, for io_uring_register (provided buffers).</summary>
    public int Fd => _fd;

    /// <summary>The IORING_FEAT_* flags the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>Created with deferred task running and not yet enabled: <see cref="EnableOnThisThread"/> first.</summary>
    public bool IsDisabled { get; private set; }

    /// <summary>
    /// Makes the calling thread the ring's only submitter and enables it (a ring created with
    /// <c>deferTaskRun</c> accepts nothing before). Does nothing for an ordinary ring.
    /// </summary>
    public void EnableOnThisThread()
    {
        if (!IsDisabled)
        {
            return;
        }

        if (Register(_fd, IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
        {
            throw PlatformException.FromLastError("io_uring_register(IORING_REGISTER_ENABLE_RINGS)");
        }

        IsDisabled = false;
    }

    /// <summary>Completion queue size (completions beyond it wait in the kernel's overflow list, IORING_FEAT_NODROP).</summary>
    public uint CqEntries { get; }

    /// <summary>io_uring_enter system calls made so far (each submits a batch and/or waits).</summary>
    public long EnterCalls { get; private set; }

    /// <summary>Free submission slots.</summary>
    public int SqSpaceLeft => (int)(_sqEntries - (_sqTailLocal - Volatile.Read(ref *_sqHead)));

    /// <summary>Entries prepared and not yet taken by the kernel.</summary>
    public int Unsubmitted => (int)(_sqTailLocal - Volatile.Read(ref *_sqHead));

    /// <summary>
    /// A zeroed submission entry to fill, or null when the queue is full (call <see cref="Submit"/>).
    /// It reaches the kernel on the next <see cref="Submit"/> or <see cref="SubmitAndWait"/>.
    /// </summary>
    public io_uring_sqe* TryGetSqe()
    {
        if (_sqTailLocal - Volatile.Read(ref *_sqHead) >= _sqEntries)
        {
            return null;
        }

        io_uring_sqe* sqe = &_sqes[_sqTailLocal & _sqMask];
        *sqe = default;
        _sqTailLocal++;
        return sqe;
    }

    /// <summary>
    /// Hands the prepared entries to the kernel without waiting. Returns false when the kernel cannot
    /// take them yet (EBUSY/EAGAIN: completions must be reaped first).
    /// </summary>
    public bool Submit() => Enter(minComplete: 0, timeout: null, out _);

    /// <summary>
    /// Hands the prepared entries to the kernel and waits until at least one completion is ready, or
    /// <paramref name="timeout"/> passes (<paramref name="timedOut"/>). EINTR is retried.
    /// Returns false when the kernel refused with EBUSY/EAGAIN (reap completions, then try again).
    /// </summary>
    public bool SubmitAndWait(TimeSpan? timeout, out bool timedOut) => Enter(minComplete: 1, timeout, out timedOut);

    private bool Enter(uint minComplete, TimeSpan? timeout, out bool timedOut)
    {
        timedOut = false;
        Volatile.Write(ref *_sqTail, _sqTailLocal); // release: every SQE written above is visible before the new tail
        if (minComplete > 0 && Volatile.Read(ref *_cqTail) != _cqHeadLocal)
        {
            minComplete = 0; // completions are already waiting: submit only, do not sleep
        }

        __kernel_timespec timespec = default;
        io_uring_getevents_arg argument = default;
        uint flags = minComplete > 0 ? IORING_ENTER_GETEVENTS : 0;
        void* argumentPointer = null;
        nuint argumentSize = 0;
        if (timeout is { } limit && minComplete > 0)
        {
            timespec.tv_sec = limit.Ticks / TimeSpan.TicksPerSecond;
            timespec.tv_nsec = limit.Ticks % TimeSpan.TicksPerSecond * 100;
            argument.ts = (ulong)&timespec;
            argumentPointer = &argument;
            argumentSize = (nuint)sizeof(io_uring_getevents_arg);
            flags |= IORING_ENTER_EXT_ARG;
        }

        while (true)
        {
            uint toSubmit = _sqTailLocal - Volatile.Read(ref *_sqHead);
            if (toSubmit == 0 && minComplete == 0)
            {
                return true;
            }

            EnterCalls++;
            int result = IoModels.Interop.IoUring.Enter(_fd, toSubmit, minComplete, flags, argumentPointer, argumentSize);
            if (result >= 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Libc.EINTR)
            {
                continue; // a signal interrupted the wait: wait again
            }

            if (errno == Interop.Libc.ETIME)
            {
                timedOut = true; // the EXT_ARG timeout passed with nothing completed
                return true;
            }

            if (errno == Interop.Libc.EBUSY || errno == Interop.Libc.EAGAIN)
            {
                return false; // the completion queue is backed up: the caller reaps, then submits again
            }

            throw new PlatformException("io_uring_enter", errno);
        }
    }

    /// <summary>Takes the oldest completion, if any, and frees its slot for the kernel.</summary>
    public bool TryReadCqe(out io_uring_cqe cqe)
    {
        if (Volatile.Read(ref *_cqTail) == _cqHeadLocal) // acquire: the entry is complete before we read it
        {
            cqe = default;
            return false;
        }

        cqe = _cqes[_cqHeadLocal & _cqMask];
        _cqHeadLocal++;
        Volatile.Write(ref *_cqHead, _cqHeadLocal); // release: we are done reading before the kernel may reuse the slot
        return true;
    }

    private void* Map(nuint size, long offset)
    {
        void* address = Interop.Mman.Mmap(null, size, Interop.Mman.PROT_READ | Interop.Mman.PROT_WRITE,
            Interop.Mman.MAP_SHARED | Interop.Mman.MAP_POPULATE, _fd, offset);
        if (address == Interop.Mman.MAP_FAILED)
        {
            throw PlatformException.FromLastError("mmap");
        }

        return address;
    }

    private void Release()
    {
        if (_sqes is not null)
        {
            _ = Interop.Mman.Munmap(_sqes, _sqesSize);
        }

        if (_cqRing is not null && _cqRing != _sqRing)
        {
            _ = Interop.Mman.Munmap(_cqRing, _cqRingSize);
        }

        if (_sqRing is not null)
        {
            _ = Interop.Mman.Munmap(_sqRing, _sqRingSize);
        }

        // Closing the ring fd cancels whatever is still in flight; the kernel tears the ring down after.
        _ = Interop.Libc.Close(_fd);
    }

    /// <summary>Unmaps the queues and closes the ring. Only once no operation can still use our memory.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Release();
        }
    }
}
