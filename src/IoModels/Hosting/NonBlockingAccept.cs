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
    /// the listener was closed, or the error accept reported (errno through the one table,
    /// <c>Interop.Libc.ToSocketError</c>); <see cref="AcceptPolicy"/> decides what each means.
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

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("macos")]
    [System.Runtime.Versioning.SupportedOSPlatform("freebsd")]
    private static unsafe SocketError TryAcceptUnix(Socket listener, out Socket? accepted)
    {
        accepted = null;
        int fd = Interop.Libc.Accept(listener.SafeHandle, null, null);
        if (fd < 0)
        {
            return Interop.Libc.ToSocketError(Marshal.GetLastPInvokeError()); // what each error means is the accept policy's call
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
}
