namespace IoModels.Tests.Reliability;

/// <summary>
/// The bytes one fault-injection session sends: an endless deterministic stream derived from a seed,
/// so neither side stores what was sent and a failure can name the exact byte. About a third of the
/// bytes are ASCII lowercase (the interesting case for the echo), the rest are any value at all.
/// </summary>
internal readonly struct FaultStream(int seed)
{
    /// <summary>Writes the stream's bytes at <paramref name="position"/> onward into <paramref name="destination"/>.</summary>
    public void Fill(long position, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = At(position + i);
        }
    }

    /// <summary>The byte at <paramref name="position"/>.</summary>
    public byte At(long position)
    {
        // splitmix64 of (seed, position / 8), one byte of the 64-bit result per position.
        ulong z = unchecked(((ulong)(uint)seed << 32) + (ulong)(position >> 3) * 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        byte b = (byte)(z >> (int)((position & 7) * 8));
        return b >= 0xC0 ? (byte)('a' + (b % 26)) : b; // the top quarter becomes lowercase letters
    }
}
