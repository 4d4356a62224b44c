using System.Net.Sockets;
using System.Runtime.Versioning;

namespace IoModels;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// The one errno → <see cref="SocketError"/> table, for every engine that makes raw calls (epoll,
        /// uring, the non-blocking accept): what an errno MEANS is then decided once, on the
        /// <see cref="SocketError"/>, by <see cref="SocketErrors"/> and <see cref="AcceptPolicy"/>. It maps
        /// as the runtime's SocketErrorPal.Unix.cs does, so a raw engine and a managed one classify the
        /// same failure alike. An errno not listed here is <see cref="SocketError.SocketError"/>: a fault.
        /// </summary>
        [SupportedOSPlatform("linux")]
        [SupportedOSPlatform("macos")]
        [SupportedOSPlatform("freebsd")]
        internal static SocketError ToSocketError(int errno)
        {
            if (errno == EAGAIN) return SocketError.WouldBlock;
            if (errno == EINTR) return SocketError.Interrupted;
            if (errno == EMFILE || errno == ENFILE) return SocketError.TooManyOpenSockets;
            if (errno == ENOBUFS || errno == ENOMEM) return SocketError.NoBufferSpaceAvailable;
            if (errno == ECONNABORTED) return SocketError.ConnectionAborted;
            if (errno == EPROTO) return SocketError.ConnectionAborted; // accept: the handshake failed in the backlog, as ECONNABORTED
            if (errno == ECONNRESET) return SocketError.ConnectionReset;
            if (errno == EPIPE) return SocketError.Shutdown;
            if (errno == ETIMEDOUT) return SocketError.TimedOut;
            if (errno == ENOTCONN) return SocketError.NotConnected;
            if (errno == ENETRESET) return SocketError.NetworkReset;
            if (errno == EHOSTUNREACH) return SocketError.HostUnreachable;
            if (errno == ENETUNREACH) return SocketError.NetworkUnreachable;
            if (errno == EPERM) return SocketError.AccessDenied; // accept: a firewall rule refused that one connection
            if (errno == EBADF || errno == ECANCELED) return SocketError.OperationAborted;
            if (errno == EINVAL) return SocketError.InvalidArgument;
            return SocketError.SocketError;
        }
    }
}
