using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// fcntl commands and file status flags for signal-driven IO (the <c>signal</c> model): who gets
    /// SIGIO for a descriptor (F_SETOWN) and asking the kernel to send it (O_ASYNC).
    /// </summary>
    /// <remarks>
    /// Values as in the C headers. Linux: asm-generic/fcntl.h (F_SETOWN 8, O_NONBLOCK 00004000,
    /// FASYNC 00020000 octal) and asm-generic/signal.h (SIGIO 29) — the generic values used by every
    /// CPU .NET runs on (x86-64, arm64, arm, riscv64, s390x, ppc64le, loongarch64); glibc's
    /// bits/fcntl-linux.h agrees (F_GETFL 3, F_SETFL 4, O_ASYNC 020000). macOS: xnu bsd/sys/fcntl.h
    /// (F_GETFL 3, F_SETFL 4, F_SETOWN 6, O_NONBLOCK 0x4, O_ASYNC 0x40) and bsd/sys/signal.h (SIGIO 23).
    /// (This part adds to the Libc class of Interop.Libc.cs, whose platform attributes apply.)
    /// </remarks>
    internal static partial class Libc
    {
        internal const int F_GETFL = 3;
        internal const int F_SETFL = 4;

        /// <summary>Sets the process (or, negative, process group) that receives SIGIO and SIGURG for a descriptor.</summary>
        internal static readonly int F_SETOWN = OperatingSystem.IsLinux() ? 8 : 6;

        internal static readonly int O_NONBLOCK = OperatingSystem.IsLinux() ? 0x800 : 0x4;

        /// <summary>Raise SIGIO when IO becomes possible on the descriptor (FASYNC is the same bit).</summary>
        internal static readonly int O_ASYNC = OperatingSystem.IsLinux() ? 0x2000 : 0x40;

        /// <summary>"I/O possible": its default action ends the process, so a handler must be in place first.</summary>
        internal static readonly int SIGIO = OperatingSystem.IsLinux() ? 29 : 23;

        /// <summary>
        /// Makes the kernel raise SIGIO to this process whenever IO becomes possible on
        /// <paramref name="handle"/>: fcntl(F_SETOWN, getpid()), then F_SETFL with O_ASYNC added to
        /// the flags already set (O_NONBLOCK among them), so nothing else changes.
        /// </summary>
        /// <exception cref="PlatformException">fcntl failed.</exception>
        [SupportedOSPlatform("linux")]
        [SupportedOSPlatform("macos")]
        internal static void EnableSigio(SafeHandle handle)
        {
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added); // the descriptor cannot be closed and reused under the calls below
                int fd = (int)handle.DangerousGetHandle();
                if (Fcntl(fd, F_SETOWN, GetPid()) == -1)
                {
                    throw PlatformException.FromLastError("fcntl(F_SETOWN)");
                }

                int flags = Fcntl(fd, F_GETFL, 0);
                if (flags == -1 || Fcntl(fd, F_SETFL, flags | O_ASYNC) == -1)
                {
                    throw PlatformException.FromLastError("fcntl(F_SETFL, O_ASYNC)");
                }
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }

        /// <summary>The descriptor's file status flags (F_GETFL), for tests and diagnostics.</summary>
        /// <exception cref="PlatformException">fcntl failed.</exception>
        internal static int GetStatusFlags(SafeHandle handle)
        {
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                int flags = Fcntl((int)handle.DangerousGetHandle(), F_GETFL, 0);
                return flags == -1 ? throw PlatformException.FromLastError("fcntl(F_GETFL)") : flags;
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }
    }
}
