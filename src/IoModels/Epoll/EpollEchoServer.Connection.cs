using System.Net;

namespace IoModels.Epoll;

public sealed partial class EpollEchoServer
{
    /// <summary>One accepted client: its descriptor, which this engine owns and closes, and its state between events.</summary>
    private sealed class Connection
    {
        public Connection(int fd, long id, EndPoint? remote, int outputBufferLimit, EchoStatistics statistics)
        {
            Fd = fd;
            Id = id;
            Remote = remote;
            Output = new OutputBuffer(outputBufferLimit, statistics);
        }

        public int Fd { get; }

        public long Id { get; }

        public EndPoint? Remote { get; }

        /// <summary>Echoed bytes the kernel did not take yet, in order; bounded, so a full queue stops reading.</summary>
        public OutputBuffer Output { get; }

        /// <summary>What the kernel queue watches this socket for now: changed only when it must change.</summary>
        public Readiness Registered { get; set; }

        /// <summary>
        /// Reading stopped while data may still be waiting (the output queue was full). Edge-triggered,
        /// the kernel will not report that data again, so the loop reads it itself once there is room.
        /// </summary>
        public bool ReadPending { get; set; }

        /// <summary>The client shut down its sending side: send what is queued, then close.</summary>
        public bool PeerClosed { get; set; }

        /// <summary>Stopping: every echo is out and our side is shut down (FIN); input is read only to be discarded.</summary>
        public bool SendShut { get; set; }

        /// <summary>When bytes last moved either way (Environment.TickCount64), for the idle timeout.</summary>
        public long LastActive { get; set; }

        /// <summary>The kernel's send queue at the last idle look, -1 for none (see <see cref="IdleRule"/>).</summary>
        public int UnsentSample { get; set; } = -1;

        public long BytesIn { get; set; }

        public long BytesOut { get; set; }
    }
}
