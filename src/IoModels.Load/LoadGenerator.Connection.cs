using System.Diagnostics;
using System.Net.Sockets;

namespace IoModels.Load;

public sealed partial class LoadGenerator
{
    /// <summary>
    /// One connection of the load: sends batches of messages from the shared pattern, receives into its
    /// own buffer, checks every byte, and times every message from its slot in the send-time ring.
    /// </summary>
    private sealed class Connection : IDisposable
    {
        private readonly LoadGenerator _owner;
        private readonly Socket _socket;
        // No ExecutionContext flows into completions: nothing here reads async-locals, and capturing
        // one per operation is a measurable cost at a million operations a second.
        private readonly SocketAsyncEventArgs _send = new(unsafeSuppressExecutionContextFlow: true);
        private readonly SocketAsyncEventArgs _receive = new(unsafeSuppressExecutionContextFlow: true);
        private readonly long[] _sendTimes;
        private readonly int _size;
        private readonly int _depth;

        // Guarded by _gate: shared between the send and receive completions, which may run at once.
        private readonly Lock _gate = new();
        private long _sentMessages;
        private long _completedMessages;
        private bool _sending;
        private bool _closed;

        // Touched only by the receive path (one receive is outstanding at a time).
        private long _receivedBytes;
        private double _phase;

        public Connection(LoadGenerator owner, Socket socket)
        {
            _owner = owner;
            _socket = socket;
            _size = owner._options.MessageSize;
            _depth = owner._options.Depth;
            _sendTimes = new long[_depth];
            _send.Completed += (_, _) => OnSendCompleted();
            _receive.Completed += (_, _) => OnReceiveCompleted();
            _receive.SetBuffer(new byte[owner._receiveBufferSize], 0, owner._receiveBufferSize);
        }

        public long MeasuredMessages { get; private set; }

        public long Errors { get; private set; }

        public long MismatchedBytes { get; private set; }

        /// <summary>Starts receiving and sends the first messages; <paramref name="phase"/> (0..1) staggers the open-loop schedule.</summary>
        public void Start(double phase)
        {
            _phase = phase;
            PumpReceive();
            PumpSend();
        }

        /// <summary>Sends whatever may be sent now: up to the depth in flight and, with a rate, no more than is due. Cheap when nothing is.</summary>
        public void PumpSend()
        {
            while (TryBeginBatch())
            {
                if (!SendUntilPendingOrDone())
                {
                    return; // pending: OnSendCompleted carries on
                }
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;
            }

            // Closing aborts the pending receive and send; their completions see _closed and stop quietly.
            _socket.Dispose();
            _send.Dispose();
            _receive.Dispose();
        }

        private bool TryBeginBatch()
        {
            long now = Stopwatch.GetTimestamp();
            int count;
            int offset;
            lock (_gate)
            {
                if (_sending || _closed || _owner._stopping || now >= _owner._measureEnd)
                {
                    return false;
                }

                long allowed = _depth - (_sentMessages - _completedMessages);
                bool paced = _owner._options.Rate is not null;
                if (paced)
                {
                    long due = (long)Math.Floor(((now - _owner._sendStart) / _owner._ticksPerMessage) - _phase) + 1;
                    allowed = Math.Min(allowed, due - _sentMessages);
                }

                if (allowed <= 0)
                {
                    return false;
                }

                count = (int)allowed;
                for (int i = 0; i < count; i++)
                {
                    long message = _sentMessages + i;
                    _sendTimes[message % _depth] = paced ? IntendedSendTime(message) : now;
                }

                offset = (int)(_sentMessages * _size % 26);
                _sentMessages += count;
                _sending = true;
            }

            try
            {
                _send.SetBuffer(_owner._pattern, offset, count * _size);
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false; // closed under us by Dispose(): the run is over
            }
        }

        /// <summary>When message <paramref name="message"/> was due on the open-loop schedule.</summary>
        private long IntendedSendTime(long message) =>
            _owner._sendStart + (long)((message + _phase) * _owner._ticksPerMessage);

        /// <summary>Sends the current batch; true when it went out completely and synchronously, false when pending or failed.</summary>
        private bool SendUntilPendingOrDone()
        {
            while (true)
            {
                bool pending;
                try
                {
                    pending = _socket.SendAsync(_send);
                }
                catch (ObjectDisposedException)
                {
                    return false; // closed under us by Dispose(): the run is over
                }

                if (pending)
                {
                    return false;
                }

                switch (AfterSend())
                {
                    case SendStep.Done:
                        return true;
                    case SendStep.Failed:
                        return false;
                }
            }
        }

        private void OnSendCompleted()
        {
            switch (AfterSend())
            {
                case SendStep.Partial:
                    if (SendUntilPendingOrDone())
                    {
                        PumpSend();
                    }

                    break;
                case SendStep.Done:
                    PumpSend();
                    break;
            }
        }

        private SendStep AfterSend()
        {
            if (_send.SocketError != SocketError.Success)
            {
                Fail();
                return SendStep.Failed;
            }

            int rest = _send.Count - _send.BytesTransferred;
            if (rest > 0)
            {
                try
                {
                    _send.SetBuffer(_send.Offset + _send.BytesTransferred, rest); // a partial send: the kernel took only part
                    return SendStep.Partial;
                }
                catch (ObjectDisposedException)
                {
                    return SendStep.Failed; // closed under us by Dispose(): the run is over
                }
            }

            lock (_gate)
            {
                _sending = false;
            }

            return SendStep.Done;
        }

        private void PumpReceive()
        {
            while (true)
            {
                bool pending;
                try
                {
                    pending = _socket.ReceiveAsync(_receive);
                }
                catch (ObjectDisposedException)
                {
                    return; // closed under us by Dispose(): the run is over
                }

                if (pending || !AfterReceive())
                {
                    return;
                }
            }
        }

        private void OnReceiveCompleted()
        {
            if (AfterReceive())
            {
                PumpReceive();
            }
        }

        /// <summary>Checks and accounts one received chunk; false when the connection is finished.</summary>
        private bool AfterReceive()
        {
            int received = _receive.BytesTransferred;
            if (_receive.SocketError != SocketError.Success || received == 0)
            {
                Fail(); // the server reset or closed a connection it should have kept serving
                return false;
            }

            long now = Stopwatch.GetTimestamp();
            Check(_receive.Buffer.AsSpan(0, received));
            bool measuring = now >= _owner._measureStart && now < _owner._measureEnd;
            lock (_gate)
            {
                long sentBytes = _sentMessages * _size;
                if (_receivedBytes + received > sentBytes)
                {
                    MismatchedBytes += _receivedBytes + received - Math.Max(sentBytes, _receivedBytes); // echoed bytes nobody sent
                }

                _receivedBytes += received;
                long completed = Math.Min(_receivedBytes / _size, _sentMessages);
                for (; _completedMessages < completed; _completedMessages++)
                {
                    if (measuring)
                    {
                        _owner.Record(now - _sendTimes[_completedMessages % _depth]);
                        MeasuredMessages++;
                    }
                }
            }

            PumpSend();
            return true;
        }

        /// <summary>Compares a chunk with the uppercase of what was sent at that stream position.</summary>
        private void Check(ReadOnlySpan<byte> chunk)
        {
            ReadOnlySpan<byte> expected = _owner._expected.AsSpan((int)(_receivedBytes % 26), chunk.Length);
            if (chunk.SequenceEqual(expected))
            {
                return;
            }

            for (int i = 0; i < chunk.Length; i++)
            {
                if (chunk[i] != expected[i])
                {
                    MismatchedBytes++;
                }
            }
        }

        private void Fail()
        {
            lock (_gate)
            {
                if (_closed || _owner._stopping)
                {
                    return; // the run is ending and closed this socket itself: not the server's fault
                }

                Errors++;
            }

            Dispose();
        }

        private enum SendStep
        {
            Done,
            Partial,
            Failed,
        }
    }
}
