using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace IoModels;

/// <summary>
/// Accept on a non-blocking listener with "no client is waiting" returned as
/// <see cref="SocketError.WouldBlock"/>, a value, not an exception. The polling engines ask the
/// listener on every sweep, and nearly every answer is "no": a thrown and caught exception per sweep
/// would cost more than the accept call itself and hide the model's real cost.
/// </summary>
/// <remarks>
/// On Unix this calls accept(2) directly and wraps the new descriptor in a <see cref="Socket"/>. Elsewhere
/// (Windows) the managed <see cref="Socket.Accept"/> is the only non-blocking accept there is, and its
/// would-block exception is caught here, in one place.
/// </remarks>
public static class NonBlockingAccept
{
    /// <summary>
    /// Accepts one pending connection from <paramref name="listener"/> (which must be non-blocking).
    /// Returns Success with the new socket, WouldBlock when none is pending, OperationAborted when
    /// the listener was closed, or the error accept reported.
    /// </summary>
    public static SocketError TryAccept(Socket listener, out Socket? accepted)
    {
        ArgumentNullException.ThrowIfNull(listener);
        accepted = null;
        try
        {
            return OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()
                ? TryAcceptUnix(listener, out accepted)
                : TryAcceptManaged(listener, out accepted);
        }
        catch (ObjectDisposedException)
        {
            return SocketError.OperationAborted; // expected: the server is stopping and closed the listener
        }
    }

    /// <summary>
    /// <see cref="TryAccept(Socket, out Socket?)"/> that keeps the runtime's descriptors: while
    /// <paramref name="headroom"/> is low it accepts nothing and returns TooManyOpenSockets, so the
    /// caller backs off exactly as on EMFILE.
    /// </summary>
    public static SocketError TryAccept(Socket listener, DescriptorHeadroom headroom, out Socket? accepted)
    {
        ArgumentNullException.ThrowIfNull(headroom);
        if (headroom.IsLowBeforeAccept())
        {
            accepted = null;
            return SocketError.TooManyOpenSockets;
        }

        SocketError error = TryAccept(listener, out accepted);
        if (error == SocketError.Success)
        {
            headroom.Accepted();
        }

        return error;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("macos")]
    [System.Runtime.Versioning.SupportedOSPlatform("freebsd")]
    private static unsafe SocketError TryAcceptUnix(Socket listener, out Socket? accepted)
    {
        accepted = null;
        int fd = Interop.Libc.Accept(listener.SafeHandle, null, null);
        if (fd < 0)
        {
            return FromErrno(Marshal.GetLastPInvokeError());
        }

        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            _ = Interop.Libc.Fcntl(fd, Interop.Libc.F_SETFD, Interop.Libc.FD_CLOEXEC); // as .NET does for its own sockets
            accepted = new Socket(handle);
            return SocketError.Success;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static SocketError TryAcceptManaged(Socket listener, out Socket? accepted)
    {
        try
        {
            accepted = listener.Accept();
            return SocketError.Success;
        }
        catch (SocketException exception)
        {
            // Expected: a non-blocking accept reports "nothing pending" (and its other failures) this way here.
            accepted = null;
            return exception.SocketErrorCode;
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("macos")]
    [System.Runtime.Versioning.SupportedOSPlatform("freebsd")]
    private static SocketError FromErrno(int errno)
    {
        if (errno == Interop.Libc.EAGAIN || errno == Interop.Libc.EINTR)
        {
            return SocketError.WouldBlock; // EINTR: nothing accepted; the next sweep asks again
        }

        if (errno == Interop.Libc.EMFILE || errno == Interop.Libc.ENFILE)
        {
            return SocketError.TooManyOpenSockets;
        }

        if (errno == Interop.Libc.ENOBUFS || errno == Interop.Libc.ENOMEM)
        {
            return SocketError.NoBufferSpaceAvailable;
        }

        if (errno == Interop.Libc.ECONNABORTED)
        {
            return SocketError.ConnectionAborted; // the client gave up while still in the backlog
        }

        if (errno == Interop.Libc.EBADF || errno == Interop.Libc.EINVAL)
        {
            return SocketError.OperationAborted; // the listener was closed (or shut down) under us: stopping
        }

        return SocketError.SocketError;
    }
}
