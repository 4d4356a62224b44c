using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IoModels;

/// <summary>
/// The echo protocol's transform: Python's <c>bytes.upper()</c>. Bytes <c>a</c>..<c>z</c> become
/// <c>A</c>..<c>Z</c>; every other byte (UTF-8 continuation bytes, binary, NUL) is left alone. It is
/// length-preserving and byte-local, so it is correct on any split of the stream and can run in place.
/// </summary>
public static class AsciiUpper
{
    /// <summary>Uppercases <paramref name="buffer"/> in place, 32 or 16 bytes at a time where the CPU allows.</summary>
    public static void ToUpperInPlace(Span<byte> buffer)
    {
        ref byte start = ref MemoryMarshal.GetReference(buffer);
        nuint length = (nuint)buffer.Length;
        nuint i = 0;

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> lowerA = Vector256.Create((byte)'a');
            Vector256<byte> range = Vector256.Create((byte)('z' - 'a'));
            Vector256<byte> caseBit = Vector256.Create((byte)0x20);
            nuint last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
            {
                Vector256<byte> v = Vector256.LoadUnsafe(ref start, i);
                // (v - 'a') <= 25 as unsigned bytes is true exactly for 'a'..'z'.
                Vector256<byte> isLower = Vector256.LessThanOrEqual(v - lowerA, range);
                (v & ~(isLower & caseBit)).StoreUnsafe(ref start, i);
            }
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> lowerA = Vector128.Create((byte)'a');
            Vector128<byte> range = Vector128.Create((byte)('z' - 'a'));
            Vector128<byte> caseBit = Vector128.Create((byte)0x20);
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
            {
                Vector128<byte> v = Vector128.LoadUnsafe(ref start, i);
                Vector128<byte> isLower = Vector128.LessThanOrEqual(v - lowerA, range);
                (v & ~(isLower & caseBit)).StoreUnsafe(ref start, i);
            }
        }

        for (; i < length; i++)
        {
            ref byte b = ref Unsafe.Add(ref start, i);
            b = ToUpper(b);
        }
    }

    /// <summary>The scalar definition the vector paths must agree with.</summary>
    public static byte ToUpper(byte value) => (uint)(value - 'a') <= 'z' - 'a' ? (byte)(value & ~0x20) : value;
}
