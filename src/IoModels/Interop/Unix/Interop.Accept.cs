using System.Runtime.InteropServices;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// accept(2), for engines that poll a non-blocking listener: "no client waiting" comes back as
    /// -1 with errno EAGAIN, a value, where the managed <c>Socket.Accept</c> would throw.
    /// </summary>
    internal static partial class Libc
    {
        // F_SETFD, FD_CLOEXEC, ECONNABORTED and EINVAL are declared with the other libc values in Interop.Libc.cs.

        /// <summary>
        /// The listener is passed as a SafeHandle, so the generated stub holds a reference on it for the
        /// duration of the call: a concurrent Dispose cannot close (and the OS reuse) the descriptor under it.
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "accept", SetLastError = true)]
        internal static unsafe partial int Accept(SafeHandle socket, void* address, uint* addressLength);
    }
}
