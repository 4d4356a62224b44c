using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;
using IoModels.Cli.Commands;

namespace IoModels.Cli.Client;

/// <summary>
/// One line's round trip, streamed. How it works:
/// 1. Two tasks run at once: one sends the line piece by piece as it is read, the other reads the echo
///    and prints it as it arrives. Sending all first and reading after deadlocks on a long line: the
///    server stops reading while its bounded output buffer is full, and only reading the echo empties it.
/// 2. Every piece sent is also written to a pipe that holds what has been sent and not yet echoed. The
///    reader compares each received byte with the ASCII uppercase of the byte sent there, then drops it.
///    The pipe pauses the sender at <see cref="Window"/> bytes owed, so memory stays flat for any length.
/// 3. <c>--timeout</c> is a stall timer (<see cref="StallTimer"/>): no byte moved for that long while
///    an echo is owed. A reply that differs is printed whole, then reported; with raw, nothing is compared.
/// </summary>
internal static class EchoExchange
{
    /// <summary>
    /// The most sent at once, and received at once: what a pipe hands over per read(2) on Linux.
    /// </summary>
    private const int PieceSize = 64 * 1024;

    /// <summary>
    /// Bytes sent ahead of their echo: 256 KiB. A 200 MiB line through the select engine on loopback took
    /// the same 2.7-3.5 s with 256 KiB, 1 MiB and 4 MiB, and 256 KiB kept the client's RSS 15 MB lower.
    /// A piece is in the pipe before it is sent, so the reader can free only what was sent before it: a
    /// piece must stay under the resume threshold (half the window), or a full window would wait for
    /// the echo of bytes not yet sent. Hence a multiple of the piece size.
    /// </summary>
    private const int Window = 4 * PieceSize;

    /// <summary>
    /// Sends the pieces <paramref name="nextPiece"/> returns until it returns an empty one, while printing
    /// the reply to <paramref name="output"/> as one line. Throws a <see cref="CliException"/> with
    /// <see cref="ExitCode.ServerClosed"/> when the reply is not the uppercase echo (unless
    /// <paramref name="raw"/>), is cut short, or stalls.
    /// </summary>
    public static async Task RunAsync(Socket socket, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> nextPiece,
        TextWriter output, bool raw, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var owed = new Pipe(new PipeOptions(pauseWriterThreshold: Window, resumeWriterThreshold: Window / 2, useSynchronizationContext: false));
        using var exchange = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stall = new StallTimer(exchange, timeout);
        var reply = new Reply(output, raw);
        Task sending = AbortOnFailure(SendAsync(socket, nextPiece, owed.Writer, stall, exchange.Token), exchange);
        Task receiving = AbortOnFailure(ReceiveAsync(socket, owed.Reader, reply, stall, exchange.Token), exchange);
        try
        {
            await Task.WhenAll(sending, receiving);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Exception? cause = Cause(receiving, sending);
            string? ended = cause switch
            {
                null => $"the echo stalled: nothing moved for {CommonOptions.FormatDuration(timeout)} ({stall.Echoed} of {stall.Sent} bytes sent so far came back)",
                EndOfStreamException => $"the server closed the connection after {stall.Echoed} of {stall.Sent} echoed bytes",
                SocketException socketException => $"the connection to the server was lost: {socketException.Message}",
                _ => null,
            };
            if (ended is null)
            {
                ExceptionDispatchInfo.Throw(cause!); // not the server's doing (stdin failed, say): no reason to word it
            }

            await reply.EndLineAsync();
            throw reply.Failure(ended);
        }

        await reply.EndLineAsync();
        if (reply.Difference is not null)
        {
            throw reply.Failure(ended: null);
        }
    }

    private static async Task SendAsync(Socket socket, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> nextPiece,
        PipeWriter owed, StallTimer stall, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> read = await nextPiece(cancellationToken);
                if (read.IsEmpty)
                {
                    return;
                }

                for (int offset = 0; offset < read.Length; offset += PieceSize) // a --message may be longer than a piece
                {
                    ReadOnlyMemory<byte> piece = read.Slice(offset, Math.Min(PieceSize, read.Length - offset));
                    stall.Sending(piece.Length);
                    await owed.WriteAsync(piece, cancellationToken); // waits while a whole window is owed
                    while (!piece.IsEmpty)
                    {
                        int sent = await socket.SendAsync(piece, SocketFlags.None, cancellationToken);
                        piece = piece[sent..];
                        stall.SendCompleted();
                    }
                }
            }
        }
        finally
        {
            await owed.CompleteAsync(); // tells the reader that everything owed is in the pipe
        }
    }

    private static async Task ReceiveAsync(Socket socket, PipeReader owed, Reply reply, StallTimer stall, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[PieceSize];
        while (true)
        {
            // With nothing owed this waits for the sender, which waits for stdin: no stall timer runs.
            ReadResult result = await owed.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> sent = result.Buffer;
            if (sent.IsEmpty)
            {
                if (result.IsCompleted)
                {
                    await owed.CompleteAsync();
                    return; // everything sent has come back
                }

                owed.AdvanceTo(sent.Start);
                continue;
            }

            // Never more than is owed: a reply longer than the line is not read into the next one's.
            int received = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(sent.Length, PieceSize)), SocketFlags.None, cancellationToken);
            if (received == 0)
            {
                throw new EndOfStreamException();
            }

            stall.Received(received);
            await reply.AddAsync(sent.Slice(0, received), buffer.AsMemory(0, received));
            owed.AdvanceTo(sent.GetPosition(received));
        }
    }

    /// <summary>Whichever task fails first cancels the other: a closed connection must not leave a send waiting.</summary>
    private static async Task AbortOnFailure(Task task, CancellationTokenSource exchange)
    {
        try
        {
            await task;
        }
        catch
        {
            await exchange.CancelAsync();
            throw;
        }
    }

    /// <summary>
    /// What ended the exchange: the reader's view first (the server closed), then a lost connection, then
    /// anything else; null when both tasks were cancelled, which, the caller's token not being cancelled,
    /// only the stall timer does.
    /// </summary>
    private static Exception? Cause(Task receiving, Task sending)
    {
        Exception?[] causes = [receiving.Exception?.InnerException, sending.Exception?.InnerException];
        return causes.FirstOrDefault(e => e is EndOfStreamException) ?? causes.FirstOrDefault(e => e is SocketException)
            ?? causes.FirstOrDefault(e => e is not null and not OperationCanceledException);
    }

    /// <summary>The reply as it arrives: printed as UTF-8 text, compared with the uppercase of what was sent.</summary>
    private sealed class Reply(TextWriter output, bool raw)
    {
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly char[] _chars = new char[Encoding.UTF8.GetMaxCharCount(PieceSize)];
        private readonly byte[] _expected = new byte[PieceSize];
        private long _compared;

        /// <summary>The first byte that is not the uppercase of the byte sent: where, what was expected, what came.</summary>
        public (long Offset, byte Expected, byte Actual)? Difference { get; private set; }

        public async Task AddAsync(ReadOnlySequence<byte> sent, ReadOnlyMemory<byte> received)
        {
            if (!raw && Difference is null)
            {
                Span<byte> expected = _expected.AsSpan(0, received.Length);
                sent.CopyTo(expected);
                AsciiUpper.ToUpperInPlace(expected);
                int same = expected.CommonPrefixLength(received.Span);
                if (same < expected.Length)
                {
                    Difference = (_compared + same, expected[same], received.Span[same]);
                }
            }

            _compared += received.Length;
            int count = _decoder.GetChars(received.Span, _chars, flush: false);
            await output.WriteAsync(_chars.AsMemory(0, count));
        }

        public async Task EndLineAsync()
        {
            int count = _decoder.GetChars([], _chars, flush: true); // a sequence cut short prints as U+FFFD
            await output.WriteAsync(_chars.AsMemory(0, count));
            await output.WriteLineAsync();
            await output.FlushAsync();
        }

        /// <summary>The one line that says what went wrong; <paramref name="ended"/> says how the exchange ended, if not whole.</summary>
        public CliException Failure(string? ended)
        {
            if (Difference is not { } difference)
            {
                return new CliException(ExitCode.ServerClosed, ended ?? throw new InvalidOperationException("an exchange that ended whole and matching is no failure"));
            }

            string notEcho = $"the reply is not the uppercase echo of what was sent: byte {difference.Offset} is {Show(difference.Actual)}, "
                + $"not {Show(difference.Expected)} (--raw prints any reply without comparing)";
            return new CliException(ExitCode.ServerClosed, ended is null ? notEcho : $"{notEcho}; then {ended}");
        }

        private static string Show(byte value) => value is >= 0x20 and < 0x7F ? $"'{(char)value}' (0x{value:x2})" : $"0x{value:x2}";
    }
}
