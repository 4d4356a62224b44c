using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests.Reliability;

/// <summary>
/// One badly behaved client of a fault-injection run. It connects, sends a seeded stream in messages
/// of 0 B to 1 MiB split at random points with pauses, reads in random (often tiny) pieces with
/// stretches of reading nothing, and ends each session at random by half-closing, by closing after
/// reading everything, or by an abrupt reset mid-stream; then it reconnects, until the deadline.
/// </summary>
/// <remarks>
/// The oracle: every byte read must be the uppercase of the byte sent at the same position of the
/// session's <see cref="FaultStream"/>, and no byte may arrive before it was sent (nothing added).
/// A session that ends gracefully must get back exactly as many bytes as it sent (nothing lost); a
/// session that resets checks only the prefix it read. A failure names the client, the session and
/// its seed, so it can be replayed with the run's seed.
/// </remarks>
internal sealed class FaultClient
{
    /// <summary>No progress for this long on a connection that should make progress is a hang, reported as a failure.</summary>
    private static readonly TimeSpan s_stallTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The largest message, per the issue: sends of 0 B to 1 MiB.</summary>
    private const int MaxMessage = 1024 * 1024;

    private readonly IPEndPoint _endPoint;
    private readonly int _index;
    private readonly FaultTally _tally;
    private readonly Random _random;
    private readonly byte[] _sendBuffer = new byte[MaxMessage];
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];

    public FaultClient(IPEndPoint endPoint, int runSeed, int index, FaultTally tally)
    {
        _endPoint = endPoint;
        _index = index;
        _tally = tally;
        _random = new Random(unchecked(runSeed * 1_000_003 + index)); // deterministic per (run seed, client)
    }

    private enum Ending
    {
        HalfClose,
        CloseAfterReadingAll,
        Reset,
    }

    /// <summary>Runs sessions back to back until <paramref name="deadline"/>; throws on the first broken promise.</summary>
    public async Task RunAsync(DateTime deadline)
    {
        for (int session = 0; DateTime.UtcNow < deadline; session++)
        {
            int sessionSeed = _random.Next();
            if (session > 0)
            {
                Interlocked.Increment(ref _tally.Reconnects);
            }

            try
            {
                await RunSessionAsync(sessionSeed, deadline);
            }
            catch (Exception exception)
            {
                throw new InvalidOperationException($"client {_index}, session {session} (session seed {sessionSeed}): {exception.Message}", exception);
            }
        }
    }

    private async Task RunSessionAsync(int sessionSeed, DateTime runDeadline)
    {
        var random = new Random(sessionSeed);
        var stream = new FaultStream(sessionSeed);
        Ending ending = random.Next(100) switch
        {
            < 45 => Ending.HalfClose,
            < 70 => Ending.CloseAfterReadingAll,
            _ => Ending.Reset,
        };
        TimeSpan length = TimeSpan.FromMilliseconds(random.Next(20, 2500));
        DateTime sessionDeadline = DateTime.UtcNow + length < runDeadline ? DateTime.UtcNow + length : runDeadline;
        Interlocked.Increment(ref _tally.Sessions);

        using TestClient client = await TestClient.ConnectAsync(_endPoint);
        var state = new Session(client.Socket, stream);
        Task reader = ReadAsync(state, new Random(random.Next()));
        Task writer = WriteAsync(state, new Random(random.Next()), sessionDeadline);

        switch (ending)
        {
            case Ending.HalfClose:
                await writer.WithTimeout(length + s_stallTimeout);
                state.SentEnd = true;
                client.Socket.Shutdown(SocketShutdown.Send);
                await reader.WithTimeout(s_stallTimeout * 2); // reads to the end of stream
                Interlocked.Increment(ref _tally.HalfCloses);
                break;

            case Ending.CloseAfterReadingAll:
                await writer.WithTimeout(length + s_stallTimeout);
                long total = Volatile.Read(ref state.Offered);
                await TaskTimeoutExtensions.Eventually(() => Volatile.Read(ref state.Received) >= total || reader.IsCompleted,
                    $"all {total} bytes are echoed (got {Volatile.Read(ref state.Received)})", s_stallTimeout);
                state.Ending = true;
                client.Socket.Dispose(); // a full close, no half-close first: everything was read, so the server sees FIN
                await reader.WithTimeout(s_stallTimeout);
                Interlocked.Increment(ref _tally.Closes);
                break;

            case Ending.Reset:
                // Reset at a random moment of the session, often mid-send with data in flight both ways.
                TimeSpan resetAfter = TimeSpan.FromMilliseconds(random.Next(0, (int)length.TotalMilliseconds + 1));
                await Task.WhenAny(writer, Task.Delay(resetAfter));
                state.Ending = true;
                client.Reset();
                await Task.WhenAll(writer, reader).WithTimeout(s_stallTimeout);
                Interlocked.Increment(ref _tally.Resets);
                return; // only the prefix it read is checked, and the reader did that
        }

        long offered = Volatile.Read(ref state.Offered);
        long received = Volatile.Read(ref state.Received);
        if (received != offered)
        {
            throw new InvalidOperationException($"{offered - received} bytes lost: sent {offered}, got back {received} before the end ({ending})");
        }
    }

    private async Task WriteAsync(Session state, Random random, DateTime sessionDeadline)
    {
        long position = 0;
        try
        {
            while (DateTime.UtcNow < sessionDeadline && !state.Ending)
            {
                int size = random.Next(100) switch
                {
                    < 5 => 0,
                    < 50 => random.Next(1, 1025),
                    < 85 => random.Next(1025, 64 * 1024 + 1),
                    _ => random.Next(64 * 1024 + 1, MaxMessage + 1),
                };
                if (size == 0)
                {
                    await state.Socket.SendAsync(ReadOnlyMemory<byte>.Empty, SocketFlags.None);
                    Interlocked.Increment(ref _tally.ZeroByteSends);
                    continue;
                }

                state.Stream.Fill(position, _sendBuffer.AsSpan(0, size));

                // Split the message at random points so the server sees it in arbitrary pieces and gaps.
                int pieces = random.Next(100) < 40 ? random.Next(2, 7) : 1;
                int[] cuts = [.. Enumerable.Range(0, pieces - 1).Select(_ => random.Next(0, size + 1)).Order(), size];
                if (pieces > 1)
                {
                    Interlocked.Increment(ref _tally.SplitSends);
                }

                int start = 0;
                foreach (int end in cuts)
                {
                    await SendAllAsync(state, _sendBuffer.AsMemory(start, end - start));
                    start = end;
                    if (pieces > 1 && random.Next(100) < 30)
                    {
                        await Task.Delay(random.Next(1, 30));
                        Interlocked.Increment(ref _tally.SendPauses);
                    }
                }

                position += size;
                if (random.Next(100) < 20)
                {
                    await Task.Delay(random.Next(1, 100));
                    Interlocked.Increment(ref _tally.SendPauses);
                }
            }
        }
        catch (Exception exception) when (state.Ending && exception is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Expected: this client reset or closed its own socket under a pending send.
        }
    }

    private async Task SendAllAsync(Session state, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            // Counted before the call: an echo may arrive before SendAsync returns, never before it starts.
            Interlocked.Add(ref state.Offered, data.Length);
            Interlocked.Add(ref _tally.BytesOffered, data.Length);
            using var stall = new CancellationTokenSource(s_stallTimeout * 2);
            int sent;
            try
            {
                sent = await state.Socket.SendAsync(data, SocketFlags.None, stall.Token);
            }
            catch (OperationCanceledException) when (stall.IsCancellationRequested && !state.Ending)
            {
                throw new InvalidOperationException($"a send made no progress for {s_stallTimeout * 2} with {Volatile.Read(ref state.Received)} of {Volatile.Read(ref state.Offered)} bytes echoed: the server stopped reading");
            }

            Interlocked.Add(ref state.Offered, sent - data.Length); // only what the kernel took counts as sent
            Interlocked.Add(ref _tally.BytesOffered, sent - data.Length);
            data = data[sent..];
        }
    }

    private async Task ReadAsync(Session state, Random random)
    {
        while (true)
        {
            if (random.Next(100) < 3)
            {
                // Read nothing for a while: the server must hold this client to its buffer bound meanwhile.
                await Task.Delay(random.Next(100, 600));
                Interlocked.Increment(ref _tally.ReadStalls);
            }

            int size = random.Next(100) < 20 ? random.Next(1, 1024) : random.Next(1024, _receiveBuffer.Length + 1);
            if (size < 1024)
            {
                Interlocked.Increment(ref _tally.SmallReads);
            }

            int n;
            using (var stall = new CancellationTokenSource(s_stallTimeout))
            {
                try
                {
                    n = await state.Socket.ReceiveAsync(_receiveBuffer.AsMemory(0, size), SocketFlags.None, stall.Token);
                }
                catch (Exception exception) when (state.Ending && exception is SocketException or ObjectDisposedException or OperationCanceledException)
                {
                    return; // Expected: this client closed or reset its own socket under the pending receive.
                }
                catch (OperationCanceledException) when (stall.IsCancellationRequested)
                {
                    throw new InvalidOperationException($"no byte arrived for {s_stallTimeout}: got {Volatile.Read(ref state.Received)} of {Volatile.Read(ref state.Offered)} sent (bytes lost or the server hung)");
                }
            }

            if (n == 0)
            {
                if (state.SentEnd || state.Ending)
                {
                    return; // the end of stream that follows our half-close
                }

                throw new InvalidOperationException($"the server ended the stream after {Volatile.Read(ref state.Received)} of {Volatile.Read(ref state.Offered)} bytes while the client was still sending");
            }

            long position = Volatile.Read(ref state.Received);
            long offered = Volatile.Read(ref state.Offered);
            if (position + n > offered)
            {
                throw new InvalidOperationException($"received {position + n} bytes but only {offered} were sent: the server added bytes");
            }

            for (int i = 0; i < n; i++)
            {
                byte expected = Reference.Upper(state.Stream.At(position + i));
                if (_receiveBuffer[i] != expected)
                {
                    throw new InvalidOperationException($"byte {position + i} of the echo is 0x{_receiveBuffer[i]:x2}, expected 0x{expected:x2}");
                }
            }

            Interlocked.Add(ref state.Received, n);
            Interlocked.Add(ref _tally.BytesVerified, n);
        }
    }

    /// <summary>One connection's shared progress, written by its writer and reader.</summary>
    private sealed class Session(Socket socket, FaultStream stream)
    {
        public readonly Socket Socket = socket;
        public readonly FaultStream Stream = stream;
        public long Offered;
        public long Received;
        public volatile bool SentEnd;
        public volatile bool Ending;
    }
}
