using BenchmarkDotNet.Attributes;

namespace IoModels.Benchmarks;

/// <summary>
/// The per-connection ring engines queue unsent echoes in: one message queued and sent in two partial
/// sends (the common slow path), and a receive straight into the ring behind bytes still queued.
/// Allocated must be zero: the storage is pooled and returned whenever the queue empties.
/// </summary>
[MemoryDiagnoser]
public class OutputBufferBenchmarks : IDisposable
{
    /// <summary>The engines' default bound (EchoServerOptions.OutputBufferLimit).</summary>
    private const int Capacity = 64 * 1024;

    private readonly OutputBuffer _buffer = new(Capacity);
    private byte[] _data = [];

    [Params(32, 16 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _data = new byte[Size];

    [GlobalCleanup]
    public void Dispose()
    {
        _buffer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Append one message, send it in two parts, queue empties (and returns its storage).</summary>
    [Benchmark]
    public int AppendThenConsumeInTwoSends()
    {
        _buffer.Append(_data);
        int first = _buffer.GetReadSpan().Length / 2;
        _buffer.Consume(first);
        int rest = _buffer.GetReadSpan().Length;
        _buffer.Consume(rest);
        return first + rest;
    }

    /// <summary>Receive straight into the ring (GetWriteSpan/Commit) behind older bytes still queued, then drain.</summary>
    [Benchmark]
    public int ReceiveBehindQueuedBytesThenDrain()
    {
        _buffer.Append(_data.AsSpan(0, Size / 2));
        Span<byte> target = _buffer.GetWriteSpan();
        int n = Math.Min(target.Length, Size / 2);
        _buffer.Commit(n);
        int sent = 0;
        while (!_buffer.IsEmpty)
        {
            int chunk = _buffer.GetReadSpan().Length;
            _buffer.Consume(chunk);
            sent += chunk;
        }

        return sent;
    }
}
