using IoModels.Tests.Support;

namespace IoModels.Tests;

public sealed class AsciiUpperTests
{
    [Fact]
    public void Every_byte_value_matches_the_scalar_reference()
    {
        for (int b = 0; b < 256; b++)
        {
            byte expected = b is >= 'a' and <= 'z' ? (byte)(b - 32) : (byte)b;
            Assert.Equal(expected, AsciiUpper.ToUpper((byte)b));
        }
    }

    [Fact]
    public void The_vector_paths_agree_with_the_scalar_reference_at_every_length_and_offset()
    {
        byte[] source = Reference.RandomBytes(300 + 64, seed: 42);
        // Bias the data toward the interesting range ('`'..'{' and high bytes) so edges are hit often.
        for (int i = 0; i < source.Length; i += 3)
        {
            source[i] = (byte)('`' + (source[i] % 28));
        }

        for (int offset = 0; offset < 64; offset += 7)
        {
            for (int length = 0; length <= 300; length++)
            {
                byte[] buffer = (byte[])source.Clone();
                AsciiUpper.ToUpperInPlace(buffer.AsSpan(offset, length));
                byte[] expected = (byte[])source.Clone();
                Reference.Upper(source.AsSpan(offset, length)).CopyTo(expected, offset);
                Assert.True(expected.AsSpan().SequenceEqual(buffer), $"mismatch at offset {offset}, length {length}");
            }
        }
    }

    [Fact]
    public void All_256_values_in_one_buffer_are_transformed_like_python_bytes_upper()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        AsciiUpper.ToUpperInPlace(all);
        Assert.Equal(Reference.Upper(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()), all);
        Assert.Equal((byte)'A', all['a']);
        Assert.Equal((byte)'`', all['`']);
        Assert.Equal((byte)'{', all['{']);
        Assert.Equal((byte)0xE1, all[0xE1]); // 'á' in Latin-1 is not ASCII: unchanged
    }
}
