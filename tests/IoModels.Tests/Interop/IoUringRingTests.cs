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
