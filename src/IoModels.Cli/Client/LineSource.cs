namespace IoModels.Cli.Client;

/// <summary>
/// The lines of a byte stream (the client's stdin), handed out in pieces through one fixed buffer, so
/// a line of any length streams to the server without ever being held whole. Line ends are those of
/// <see cref="TextReader.ReadLine"/>: <c>\n</c>, <c>\r</c> or <c>\r\n</c>; none of them is part of a line.
/// </summary>
internal sealed class LineSource
{
    /// <summary>What <see cref="NextLineAsync"/> found.</summary>
    public enum LineStart
    {
        /// <summary>The stream ended (Ctrl+D, or the pipe ran dry).</summary>
        EndOfInput,
        /// <summary>An empty line, already consumed.</summary>
        Empty,
        /// <summary>A line with text: read it with <see cref="ReadAsync"/> until it returns an empty piece.</summary>
        Text,
    }

    // One piece per read: 64 KiB is what a pipe hands over per read(2) on Linux, and a terminal line is far shorter.
    private const int BufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;
    private bool _endOfInput;
    private bool _inLine;
    private bool _afterCarriageReturn; // the last line ended with '\r': a '\n' right after it is part of that end

    public LineSource(Stream stream) => _stream = stream;

    /// <summary>Moves to the start of the next line. The current line must have been read to its end.</summary>
    public async ValueTask<LineStart> NextLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                return LineStart.EndOfInput;
            }

            byte first = _buffer[_start];
            bool restOfCrLf = first == '\n' && _afterCarriageReturn;
            _afterCarriageReturn = false;
            if (restOfCrLf)
            {
                _start++;
                continue;
            }

            if (first is (byte)'\n' or (byte)'\r')
            {
                _afterCarriageReturn = first == '\r';
                _start++;
                return LineStart.Empty;
            }

            _inLine = true;
            return LineStart.Text;
        }
    }

    /// <summary>
    /// The next piece of the current line, empty at its end. A piece is valid until the next call: it
    /// lies in this reader's buffer.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        if (!_inLine)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (_start == _end && !await FillAsync(cancellationToken))
        {
            _inLine = false; // the last line had no line end
            return ReadOnlyMemory<byte>.Empty;
        }

        int length = _buffer.AsSpan(_start, _end - _start).IndexOfAny((byte)'\n', (byte)'\r');
        if (length == 0)
        {
            _afterCarriageReturn = _buffer[_start] == '\r';
            _start++;
            _inLine = false;
            return ReadOnlyMemory<byte>.Empty;
        }

        if (length < 0)
        {
            length = _end - _start;
        }

        ReadOnlyMemory<byte> piece = _buffer.AsMemory(_start, length);
        _start += length; // a line end found here is consumed by the next call, which ends the line
        return piece;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_endOfInput)
        {
            return false; // on a terminal, reading again after Ctrl+D would wait for another line
        }

        // A console stream's read cannot be cancelled once it blocks; waiting on it this way lets
        // Ctrl+C (or a failed echo) end the command anyway, abandoning the read, as the process exits.
        _start = 0;
        _end = await _stream.ReadAsync(_buffer, CancellationToken.None).AsTask().WaitAsync(cancellationToken);
        _endOfInput = _end == 0;
        return !_endOfInput;
    }
}
