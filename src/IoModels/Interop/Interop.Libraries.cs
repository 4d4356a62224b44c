namespace IoModels;

/// <summary>Native entry points, one file per OS API family (Interop/Linux, Interop/OSX, Interop/Unix).</summary>
internal static partial class Interop
{
    /// <summary>Library names, in one place.</summary>
    internal static class Libraries
    {
        /// <summary>The C library: resolved as libc.so.6 on glibc Linux and libSystem on macOS by the runtime's probing.</summary>
        internal const string Libc = "libc";
    }
}
