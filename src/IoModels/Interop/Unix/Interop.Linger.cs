using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    [SupportedOSPlatform("freebsd")]
    internal static partial class Libc
    {
        /// <summary>struct linger: two ints on every Unix this project runs on.</summary>
        internal struct Linger
        {
            public int OnOff;
            public int Seconds;
        }
    }
}
