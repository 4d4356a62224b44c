using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IoModels.Epoll;

public sealed partial class EpollEchoServer
{
    /// <summary>
    /// What one event loop owns: its kernel queue, its listening descriptor (if it accepts), its
    /// descriptor-indexed connection table, one pinned scratch buffer, and counters it adds to the
    /// shared statistics once per wait rather than once per call.
    /// </summary>
    private sealed unsafe class EventLoop : IDisposable
    {
        /// <summary>Initial size of the descriptor-indexed table; it doubles when a descriptor does not fit.</summary>
        private const int InitialTableSize = 1024;

        private readonly Queue<EpollConnection> _handedOver = new();
        private readonly byte[] _scratch;
        private bool _closedToHandovers;

        /// <summary>Takes ownership of <paramref name="listenerFd"/> (-1: none) and creates the kernel queue; closes both if that fails.</summary>
        public EventLoop(int index, int listenerFd, IReadinessQueue queue, int bufferSize, AcceptPolicy acceptPolicy)
        {
            Index = index;
            ListenerFd = listenerFd;
            AcceptPolicy = acceptPolicy;
            Queue = queue;
            try
            {
                if (listenerFd >= 0)
                {
                    queue.Add(listenerFd, Readiness.Read);
                }
            }
            catch
            {
                Dispose();
                throw;
            }

            // Pinned for the loop's life, so recv and send take its address without a fixed block per call.
            _scratch = GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true);
            Scratch = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scratch));
            BufferSize = bufferSize;
        }

        public int Index { get; }

        public IReadinessQueue Queue { get; }

        /// <summary>This loop's listening descriptor, or -1 when connections are handed to it.</summary>
        public int ListenerFd { get; private set; }

        /// <summary>False while accepting is paused by a back-off (the listener is not watched).</summary>
        public bool ListenerArmed { get; set; } = true;

        /// <summary>When to watch the listener again after a back-off (Environment.TickCount64).</summary>
        public long AcceptResumeAt { get; set; }

        /// <summary>This loop's accept policy: its back-off and the descriptor reserve (a loop without a listener never asks).</summary>
        public AcceptPolicy AcceptPolicy { get; }

        /// <summary>The receive buffer every connection of this loop shares: the echo normally leaves it at once.</summary>
        public byte* Scratch { get; }

        public int BufferSize { get; }

        /// <summary>Connections by descriptor: descriptors are small, dense integers, so an array is the fastest map.</summary>
        public EpollConnection?[] Table { get; private set; } = new EpollConnection?[InitialTableSize];

        /// <summary>The time the last wait returned (Environment.TickCount64): one clock read per wait.</summary>
        public long Now { get; set; }

        public long NextIdleSweep { get; set; }

        /// <summary>Counted by this loop alone and added to the shared statistics once per wait: no shared cache line per call.</summary>
        public LocalCounters Counters { get; } = new();

        public EpollConnection? Find(int fd)
        {
            EpollConnection?[] table = Table;
            return (uint)fd < (uint)table.Length ? table[fd] : null;
        }

        public void Insert(EpollConnection connection)
        {
            if (connection.Fd >= Table.Length)
            {
                EpollConnection?[] table = Table;
                Array.Resize(ref table, Math.Max(connection.Fd + 1, table.Length * 2));
                Table = table;
            }

            Table[connection.Fd] = connection;
        }

        public void Remove(EpollConnection connection) => Table[connection.Fd] = null;

        /// <summary>From the accepting loop: queues a connection for this loop. False once this loop has ended.</summary>
        public bool TryHandOver(EpollConnection connection)
        {
            lock (_handedOver)
            {
                if (_closedToHandovers)
                {
                    return false;
                }

                _handedOver.Enqueue(connection);
            }

            Queue.Wake();
            return true;
        }

        public bool TryTakeHandedOver(out EpollConnection? connection)
        {
            lock (_handedOver)
            {
                return _handedOver.TryDequeue(out connection);
            }
        }

        /// <summary>Refuses further handovers and returns the connections handed over but not yet served.</summary>
        public EpollConnection[] CloseToHandovers()
        {
            lock (_handedOver)
            {
                _closedToHandovers = true;
                EpollConnection[] left = [.. _handedOver];
                _handedOver.Clear();
                return left;
            }
        }

        /// <summary>True once this loop has begun its part of a graceful stop (see EpollEchoServer.Drain.cs).</summary>
        public bool Draining { get; set; }

        /// <summary>Closes this loop's listening descriptor, if it has one: no more clients (closing it also takes it off the kernel queue).</summary>
        public void CloseListener()
        {
            if (ListenerFd >= 0)
            {
                _ = Interop.Libc.Close(ListenerFd);
                ListenerFd = -1;
            }
        }

        /// <summary>Closes the listener and the kernel queue. Connections are closed by the loop before this.</summary>
        public void Dispose()
        {
            CloseListener();
            Queue.Dispose();
        }
    }
}
