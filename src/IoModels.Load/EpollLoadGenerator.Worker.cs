using System.Diagnostics;
using System.Runtime.InteropServices;
using HdrHistogram;

namespace IoModels.Load;

internal sealed partial class EpollLoadGenerator
{
    /// <summary>One connection's place in its stream. A struct in one array per thread: no object per connection.</summary>
    private struct ConnectionState
    {
        /// <summary>The socket, or -1 once it failed, was refused or was closed.</summary>
        public int Fd;

        /// <summary>A non-blocking connect is in progress (waiting for EPOLLOUT).</summary>
        public bool Connecting;

        /// <summary>EPOLLOUT is in the interest set: the last send stopped at EAGAIN.</summary>
        public bool WantOut;

        /// <summary>Messages admitted for sending (their send times are in the ring).</summary>
        public long Sent;

        /// <summary>Messages whose whole echo has arrived.</summary>
        public long Completed;

        /// <summary>Stream bytes handed to the kernel.</summary>
        public long SendPosition;

        /// <summary>Stream bytes received and checked.</summary>
        public long ReceivePosition;

        /// <summary>Where in the open-loop period this connection's messages fall (0..1).</summary>
        public double Phase;
    }

    /// <summary>A dedicated thread, its epoll instance, its connections, its counts and its histogram.</summary>
    private sealed unsafe class Worker
    {
        private readonly EpollLoadGenerator _owner;
        private readonly ConnectionState[] _connections;
        private readonly long[] _sendTimes; // connection i's ring is [i * depth, (i + 1) * depth)
        private readonly int _size;
        private readonly int _depth;
        private readonly bool _paced;
        private readonly Thread _thread;
        private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _echoed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long _limit;

        /// <summary>Scale mode: open connections still waiting for some of their echoes.</summary>
        private int _unfinished;
        private int _epoll = -1;
        private byte* _events;
        private byte* _buffer;

        public Worker(EpollLoadGenerator owner, double[] phases, int index)
        {
            _owner = owner;
            _size = owner._options.MessageSize;
            _depth = owner._options.Depth;
            _paced = owner._options.Rate is not null;
            _limit = owner._options.MessagesPerConnection ?? long.MaxValue;
            _connections = new ConnectionState[phases.Length];
            for (int i = 0; i < phases.Length; i++)
            {
                _connections[i] = new ConnectionState { Fd = -1, Phase = phases[i] };
            }

            _sendTimes = new long[phases.Length * _depth];
            _thread = new Thread(Run) { IsBackground = true, Name = $"load epoll {index}" };
        }

        /// <summary>Completes when every connection of this thread is open or has failed.</summary>
        public Task Connected => _connected.Task;

        /// <summary>Scale mode: completes when every open connection of this thread has had all its echoes (or failed).</summary>
        public Task Echoed => _echoed.Task;

        public LongHistogram Histogram { get; } = new(LoadGenerator.HighestTrackableNanoseconds, LoadGenerator.SignificantDigits);

        public int Opened { get; private set; }

        public int ConnectFailures { get; private set; }

        public long Messages { get; private set; }

        public long Errors { get; private set; }

        public long MismatchedBytes { get; private set; }

        /// <summary>What went wrong with the thread itself (not with a connection), rethrown by the run.</summary>
        public Exception? Fault { get; private set; }

        public void Start() => _thread.Start();

        public void Join() => _thread.Join();

        private void Run()
        {
            try
            {
                _epoll = Interop.Epoll.epoll_create1(Interop.Epoll.EPOLL_CLOEXEC);
                if (_epoll < 0)
                {
                    throw PlatformException.FromLastError("epoll_create1");
                }

                _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Interop.Epoll.EventSize));
                _buffer = (byte*)NativeMemory.Alloc(Chunk);
                ConnectAll();
                _connected.TrySetResult();
                _owner._go.Wait();
                if (!_owner._stopping)
                {
                    Load();
                }

                // Keep every connection open until the run is over: the caller reads the server's CPU
                // at the end of the window, and closes counted there would be the generator's doing.
                _owner._stop.Wait();
            }
            catch (Exception exception)
            {
                // Not a connection's failure (those are counted): a bug or an exhausted system.
                // Handed to the run, which rethrows it once every thread has stopped.
                Fault = exception;
                _connected.TrySetResult();
                _echoed.TrySetResult();
            }
            finally
            {
                for (int i = 0; i < _connections.Length; i++)
                {
                    CloseSocket(ref _connections[i]);
                }

                if (_epoll >= 0)
                {
                    _ = Interop.Libc.Close(_epoll);
                }

                NativeMemory.Free(_events);
                NativeMemory.Free(_buffer);
            }
        }

        /// <summary>
        /// Opens this thread's connections: socket(2) non-blocking, connect(2), and for each EINPROGRESS
        /// an EPOLLOUT wait and SO_ERROR. At most <see cref="ConnectsInFlight"/> at once; those still
        /// pending at the connect timeout count as failures.
        /// </summary>
        private void ConnectAll()
        {
            long deadline = Stopwatch.GetTimestamp() + LoadGenerator.ToTicks(_owner._options.ConnectTimeout);
            int family = _owner._options.EndPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? Interop.SockAddr.AF_INET6 : Interop.SockAddr.AF_INET;
            int next = 0;
            int inFlight = 0;
            while ((next < _connections.Length || inFlight > 0) && !_owner._stopping)
            {
                for (; next < _connections.Length && inFlight < ConnectsInFlight; next++)
                {
                    if (BeginConnect(ref _connections[next], next, family))
                    {
                        inFlight++;
                    }
                }

                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    break;
                }

                if (inFlight == 0)
                {
                    continue;
                }

                int timeout = (int)Math.Clamp(remaining * 1000 / Stopwatch.Frequency, 1, WaitMilliseconds);
                int ready = Interop.Epoll.epoll_wait(_epoll, _events, MaxEvents, timeout);
                if (ready < 0)
                {
                    ThrowUnlessInterrupted("epoll_wait");
                    continue;
                }

                for (int e = 0; e < ready; e++)
                {
                    int index = (int)Interop.Epoll.DataAt(_events, e);
                    ref ConnectionState connection = ref _connections[index];
                    if (connection.Connecting)
                    {
                        inFlight--;
                        EndConnect(ref connection, index);
                    }
                }
            }

            // Still connecting at the deadline (or when stopped): failures, like a refusal.
            for (int i = 0; i < _connections.Length; i++)
            {
                if (_connections[i].Connecting || (i >= next))
                {
                    CloseSocket(ref _connections[i]);
                    ConnectFailures++;
                }
            }
        }

        /// <summary>Starts one connect; true when it is in progress (the caller waits for it).</summary>
        private bool BeginConnect(ref ConnectionState connection, int index, int family)
        {
            int fd = Interop.Connect.Socket(family, Interop.Connect.SOCK_STREAM | Interop.Accept4.SOCK_NONBLOCK | Interop.Accept4.SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                ConnectFailures++; // EMFILE and the like: this connection cannot exist, the rest may
                return false;
            }

            int one = 1;
            _ = Interop.Libc.SetSockOpt(fd, Interop.Libc.IPPROTO_TCP, Interop.Libc.TCP_NODELAY, &one, sizeof(int));
            int result;
            fixed (byte* address = _owner._address)
            {
                result = Interop.Connect.ConnectTo(fd, address, (uint)_owner._address.Length);
            }

            connection.Fd = fd;
            if (result == 0)
            {
                Opened++;
                Interop.Epoll.Control(_epoll, Interop.Epoll.EPOLL_CTL_ADD, fd, Interop.Epoll.EPOLLIN, (ulong)index);
                return false;
            }

            if (Marshal.GetLastPInvokeError() == Interop.Connect.EINPROGRESS)
            {
                connection.Connecting = true;
                Interop.Epoll.Control(_epoll, Interop.Epoll.EPOLL_CTL_ADD, fd, Interop.Epoll.EPOLLOUT, (ulong)index);
                return true;
            }

            CloseSocket(ref connection); // refused at once
            ConnectFailures++;
            return false;
        }

        private void EndConnect(ref ConnectionState connection, int index)
        {
            connection.Connecting = false;
            if (Interop.Connect.PendingError(connection.Fd) != 0)
            {
                CloseSocket(ref connection); // refused, reset or unreachable
                ConnectFailures++;
                return;
            }

            Opened++;
            Interop.Epoll.Control(_epoll, Interop.Epoll.EPOLL_CTL_MOD, connection.Fd, Interop.Epoll.EPOLLIN, (ulong)index);
        }

        /// <summary>The load itself: send the first messages, then wait, receive, check, time and send more until the window ends.</summary>
        private void Load()
        {
            long now = Stopwatch.GetTimestamp();
            _unfinished = Opened;
            if (_limit == long.MaxValue || _unfinished == 0)
            {
                _echoed.TrySetResult();
            }

            for (int i = 0; i < _connections.Length; i++)
            {
                if (_connections[i].Fd >= 0)
                {
                    PumpSend(ref _connections[i], i, now);
                }
            }

            long pacerTicks = Stopwatch.Frequency / 1000;
            long nextPace = now + pacerTicks;
            int timeout = _paced ? 1 : WaitMilliseconds;
            while (!_owner._stopping && now < _owner._measureEnd)
            {
                int ready = Interop.Epoll.epoll_wait(_epoll, _events, MaxEvents, timeout);
                if (ready < 0)
                {
                    ThrowUnlessInterrupted("epoll_wait");
                }

                now = Stopwatch.GetTimestamp();
                for (int e = 0; e < ready; e++)
                {
                    int index = (int)Interop.Epoll.DataAt(_events, e);
                    ref ConnectionState connection = ref _connections[index];
                    if (connection.Fd < 0)
                    {
                        continue;
                    }

                    uint events = Interop.Epoll.EventsAt(_events, e);
                    if ((events & (Interop.Epoll.EPOLLIN | Interop.Epoll.EPOLLERR | Interop.Epoll.EPOLLHUP)) != 0 && !Receive(ref connection, index, now))
                    {
                        continue;
                    }

                    PumpSend(ref connection, index, now);
                }

                if (_paced && now >= nextPace)
                {
                    // Open loop: messages fall due whether or not anything arrived.
                    for (int i = 0; i < _connections.Length; i++)
                    {
                        if (_connections[i].Fd >= 0)
                        {
                            PumpSend(ref _connections[i], i, now);
                        }
                    }

                    nextPace = now + pacerTicks;
                }
            }
        }

        /// <summary>One recv(2), checked against the uppercase stream and timed; false when the connection is finished.</summary>
        private bool Receive(ref ConnectionState connection, int index, long now)
        {
            nint received = Interop.Libc.Recv(connection.Fd, _buffer, Chunk, 0);
            if (received <= 0)
            {
                int error = received < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (received < 0 && (error == Interop.Libc.EAGAIN || error == Interop.Libc.EINTR))
                {
                    return true;
                }

                Fail(ref connection); // the server reset or closed a connection it should have kept serving
                return false;
            }

            int length = (int)received;
            var chunk = new ReadOnlySpan<byte>(_buffer, length);
            var expected = new ReadOnlySpan<byte>((byte*)_owner._expected + (connection.ReceivePosition % 26), length);
            if (!chunk.SequenceEqual(expected))
            {
                for (int i = 0; i < length; i++)
                {
                    MismatchedBytes += chunk[i] != expected[i] ? 1 : 0;
                }
            }

            if (connection.ReceivePosition + length > connection.SendPosition)
            {
                MismatchedBytes += connection.ReceivePosition + length - Math.Max(connection.SendPosition, connection.ReceivePosition); // echoed bytes nobody sent
            }

            long completedBefore = connection.Completed;
            connection.ReceivePosition += length;
            long completed = Math.Min(connection.ReceivePosition / _size, connection.Sent);
            bool measuring = now >= _owner._measureStart && now < _owner._measureEnd;
            for (; connection.Completed < completed; connection.Completed++)
            {
                if (measuring)
                {
                    Record(now - _sendTimes[(index * _depth) + (int)(connection.Completed % _depth)]);
                    Messages++;
                }
            }

            if (completedBefore < _limit && connection.Completed == _limit)
            {
                Finished(); // once: later bytes (a server echoing more than was sent) must not count it again
            }

            return true;
        }

        /// <summary>
        /// Admits what may be sent now (up to the depth in flight and, with a rate, no more than is due),
        /// stamps each admitted message's send time, then sends until done or EAGAIN; EPOLLOUT is asked
        /// for only while bytes are left over.
        /// </summary>
        private void PumpSend(ref ConnectionState connection, int index, long now)
        {
            if (!_owner._stopping && now < _owner._measureEnd)
            {
                long allowed = Math.Min(_depth - (connection.Sent - connection.Completed), _limit - connection.Sent);
                if (_paced)
                {
                    long due = (long)Math.Floor(((now - _owner._sendStart) / _owner._ticksPerMessage) - connection.Phase) + 1;
                    allowed = Math.Min(allowed, due - connection.Sent);
                }

                int ring = index * _depth;
                for (; allowed > 0; allowed--, connection.Sent++)
                {
                    _sendTimes[ring + (int)(connection.Sent % _depth)] = _paced
                        ? _owner._sendStart + (long)((connection.Sent + connection.Phase) * _owner._ticksPerMessage) // when it was due
                        : now;
                }
            }

            long end = connection.Sent * _size;
            while (connection.SendPosition < end)
            {
                int length = (int)Math.Min(end - connection.SendPosition, Chunk);
                nint sent = Interop.Libc.Send(connection.Fd, (byte*)_owner._pattern + (connection.SendPosition % 26), (nuint)length, Interop.Libc.MSG_NOSIGNAL);
                if (sent < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == Interop.Libc.EINTR)
                    {
                        continue;
                    }

                    if (error == Interop.Libc.EAGAIN)
                    {
                        break;
                    }

                    Fail(ref connection);
                    return;
                }

                connection.SendPosition += sent;
            }

            bool wantOut = connection.SendPosition < end;
            if (wantOut != connection.WantOut)
            {
                connection.WantOut = wantOut;
                Interop.Epoll.Control(_epoll, Interop.Epoll.EPOLL_CTL_MOD, connection.Fd,
                    Interop.Epoll.EPOLLIN | (wantOut ? Interop.Epoll.EPOLLOUT : 0), (ulong)index);
            }
        }

        private void Fail(ref ConnectionState connection)
        {
            if (!_owner._stopping)
            {
                Errors++; // the run is still on: the server (or the network) dropped this connection
            }

            if (connection.Completed < _limit)
            {
                Finished(); // it will get no more echoes: do not wait for them
            }

            CloseSocket(ref connection);
        }

        /// <summary>Scale mode: one more connection has all the echoes it will get.</summary>
        private void Finished()
        {
            if (--_unfinished == 0)
            {
                _echoed.TrySetResult();
            }
        }

        /// <summary>Closing also takes the socket out of the epoll set (no other descriptor refers to it).</summary>
        private static void CloseSocket(ref ConnectionState connection)
        {
            if (connection.Fd >= 0)
            {
                _ = Interop.Libc.Close(connection.Fd);
                connection.Fd = -1;
                connection.Connecting = false;
            }
        }

        private void Record(long ticks) =>
            Histogram.RecordValue(Math.Clamp((long)(ticks * _owner._nanosecondsPerTick), 1, LoadGenerator.HighestTrackableNanoseconds));

        private static void ThrowUnlessInterrupted(string call)
        {
            if (Marshal.GetLastPInvokeError() != Interop.Libc.EINTR)
            {
                throw PlatformException.FromLastError(call);
            }
        }
    }
}
