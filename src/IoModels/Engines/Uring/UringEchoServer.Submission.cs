using System.Net.Sockets;
using System.Runtime.Versioning;
using static IoModels.Interop.IoUring;

namespace IoModels.Uring;

/// <summary>Preparing requests and the errno tables the completions need.</summary>
public sealed unsafe partial class UringEchoServer
{
    // ---- Submission helpers ----

    private void ArmWake(UringLoop loop)
    {
        io_uring_sqe* sqe = Prepare(loop, IORING_OP_READ, loop.WakeFd, UserData(0, UringOp.Wake));
        sqe->addr = (ulong)loop.WakeBuffer;
        sqe->len = sizeof(ulong);
    }

    private void Cancel(UringLoop loop, ulong target)
    {
        io_uring_sqe* sqe = Prepare(loop, IORING_OP_ASYNC_CANCEL, -1, UserData(0, UringOp.Cancel));
        sqe->addr = target;
    }

    /// <summary>A zeroed SQE with the opcode, descriptor and user_data set; it goes to the kernel with the next enter.</summary>
    private io_uring_sqe* Prepare(UringLoop loop, byte opcode, int fd, ulong userData)
    {
        io_uring_sqe* sqe = loop.Ring.TryGetSqe();
        if (sqe is null)
        {
            loop.Buffers?.Refill(); // receives in this batch may need the buffers given back since the last wait
            loop.Ring.Submit(); // the queue is full: hand this batch over now and reuse the slots
            sqe = loop.Ring.TryGetSqe();
            if (sqe is null)
            {
                throw new InvalidOperationException("The io_uring submission queue is full and the kernel takes no more.");
            }
        }

        sqe->opcode = opcode;
        sqe->fd = fd;
        sqe->user_data = userData;
        loop.InFlight++;
        loop.Submitted++;
        loop.Count(EchoCounter.Submissions);
        return sqe;
    }

    private static ulong UserData(long connectionId, UringOp op) => ((ulong)connectionId << 8) | (byte)op;
}
