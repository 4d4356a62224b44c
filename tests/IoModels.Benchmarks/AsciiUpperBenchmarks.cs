using BenchmarkDotNet.Attributes;

namespace IoModels.Benchmarks;

/// <summary>
/// The echo transform over message-sized buffers: the vector paths against the scalar definition,
/// to show what vectorising buys at each size (32 B is all tail; 16 KiB is one full receive).
/// </summary>
[MemoryDiagnoser]
public class AsciiUpperBenchmarks
{
    private byte[] _buffer = [];

    [Params(32, 1024, 16 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _buffer = new byte[Size];
        new Random(42).NextBytes(_buffer); // every byte value, so both branches of the transform run
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        byte[] buffer = _buffer;
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = AsciiUpper.ToUpper(buffer[i]);
        }
    }

    [Benchmark]
    public void Vectorised() => AsciiUpper.ToUpperInPlace(_buffer);
}
