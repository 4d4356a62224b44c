using System.Net;

namespace IoModels.Epoll;

public sealed partial class EpollEchoServer
{
    /// <summary>One accepted client: its raw descriptor, which this engine owns and closes, and what the kernel queue watches it for.</summary>
    private sealed class EpollConnection(int fd, long id, EndPoint? remote, OutputBuffer output) : BufferedConnection(id, remote, output)
    {
        public int Fd { get; } = fd;

        /// <summary>What the kernel queue watches this socket for now: changed only when it must change.</summary>
        public Readiness Registered { get; set; }

        /// <summary>
        /// Reading stopped while data may still be waiting (the output queue was full). Edge-triggered,
        /// the kernel will not report that data again, so the loop reads it itself once there is room.
        /// </summary>
        public bool ReadPending { get; set; }
    }
}
