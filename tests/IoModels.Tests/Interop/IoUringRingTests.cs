using IoModels.Uring;
using static IoModels.Interop.IoUring;

namespace IoModels.Tests.Interop;

/// <summary>
/// The ring wrapper against the real kernel: a request goes in, its completion comes out with the
/// same user_data, and a timed wait with nothing in flight times out. Skips where io_uring is refused.
/// </summary>
// The types under test are Linux interop; on other systems the ring tests skip with the registry's reason.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class IoUringRingTests
{
    [SkippableFact]
    public unsafe void A_nop_comes_back_with_its_user_data()
    {
        Skip.IfNot(UringSupport.UnsupportedReason is null, UringSupport.UnsupportedReason);
        using var ring = new Ring(8, 16);
        for (ulong i = 1; i <= 3; i++)
        {
            io_uring_sqe* sqe = ring.TryGetSqe();
            Assert.True(sqe is not null);
            sqe->opcode = IORING_OP_NOP;
            sqe->user_data = 1000 + i;
        }

        var seen = new List<ulong>();
        while (seen.Count < 3)
        {
            Assert.True(ring.SubmitAndWait(TimeSpan.FromSeconds(5), out bool timedOut));
            Assert.False(timedOut, "three NOPs complete at once");
            while (ring.TryReadCqe(out io_uring_cqe cqe))
            {
                Assert.Equal(0, cqe.res);
                seen.Add(cqe.user_data);
            }
        }

        Assert.Equal([1001UL, 1002UL, 1003UL], seen.Order());
        Assert.Equal(0, ring.Unsubmitted);
        Assert.False(ring.TryReadCqe(out _));
    }

    [SkippableFact]
    public unsafe void A_deferred_ring_serves_the_thread_that_enabled_it_and_no_other()
    {
        Skip.IfNot(UringSupport.UnsupportedReason is null, UringSupport.UnsupportedReason);
        using var ring = new Ring(8, 16, deferTaskRun: true);
        if (Environment.OSVersion.Version < new Version(6, 1))
        {
            Skip.IfNot(ring.IsDisabled, "this kernel has no IORING_SETUP_DEFER_TASKRUN (before 6.1): the loop falls back to an ordinary ring");
        }

        Assert.True(ring.IsDisabled, "from 6.1 the ring is created disabled, with deferred task running");

        // As an event loop does: enable on the loop's own thread, then submit and reap there.
        ulong? completed = null;
        Exception? failure = null;
        var loop = new Thread(() =>
        {
            try
            {
                ring.EnableOnThisThread();
                io_uring_sqe* sqe = ring.TryGetSqe();
                sqe->opcode = IORING_OP_NOP;
                sqe->user_data = 42;
                Assert.True(ring.SubmitAndWait(TimeSpan.FromSeconds(5), out bool timedOut));
                Assert.False(timedOut, "the NOP completes while its submitter waits");
                Assert.True(ring.TryReadCqe(out io_uring_cqe cqe));
                completed = cqe.user_data;
            }
            catch (Exception exception)
            {
                failure = exception; // reported on the test thread below
            }
        });
        loop.Start();
        Assert.True(loop.Join(TimeSpan.FromSeconds(10)), "the loop thread finished");
        Assert.Null(failure);
        Assert.Equal(42UL, completed);
        Assert.False(ring.IsDisabled);

        // SINGLE_ISSUER: any other thread is refused (EEXIST), so a stray submission cannot go unnoticed.
        io_uring_sqe* stray = ring.TryGetSqe();
        stray->opcode = IORING_OP_NOP;
        PlatformException refused = Assert.Throws<PlatformException>(() => ring.Submit());
        Assert.Equal(17, refused.Errno); // EEXIST
    }

    [SkippableFact]
    public unsafe void A_full_submission_queue_refuses_another_entry_until_submitted()
    {
        Skip.IfNot(UringSupport.UnsupportedReason is null, UringSupport.UnsupportedReason);
        using var ring = new Ring(4, 16);
        for (int i = 0; i < 4; i++)
        {
            io_uring_sqe* sqe = ring.TryGetSqe();
            Assert.True(sqe is not null);
            sqe->opcode = IORING_OP_NOP;
        }

        Assert.True(ring.TryGetSqe() is null);
        Assert.Equal(0, ring.SqSpaceLeft);
        Assert.True(ring.Submit());
        Assert.Equal(4, ring.SqSpaceLeft);
    }

    [SkippableFact]
    public void A_timed_wait_with_nothing_in_flight_times_out()
    {
        Skip.IfNot(UringSupport.UnsupportedReason is null, UringSupport.UnsupportedReason);
        using var ring = new Ring(4, 16);
        Assert.True(ring.SubmitAndWait(TimeSpan.FromMilliseconds(20), out bool timedOut));
        Assert.True(timedOut);
        Assert.False(ring.TryReadCqe(out _));
    }

    [Fact]
    public void The_registry_entry_carries_the_detected_reason()
    {
        ModelInfo uring = ModelRegistry.Find("uring")!;
        Assert.Equal(UringSupport.UnsupportedReason, uring.UnsupportedReason);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Contains("Linux", uring.UnsupportedReason, StringComparison.Ordinal);
        }
    }
}
