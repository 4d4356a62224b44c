using System.Net;
using System.Net.Sockets;

namespace IoModels;

/// <summary>The socket set-up every engine shares: the listening socket and the options on accepted sockets.</summary>
public static class SocketSetup
{
    /// <summary>
    /// Creates, binds and listens. Sets SO_REUSEADDR (only: .NET's <c>ReuseAddress</c> on Unix also
    /// sets SO_REUSEPORT, which would let a second server share the port silently) so a restarted
    /// demo server can bind while old connections linger in TIME_WAIT. With
    /// <paramref name="reusePort"/>, also SO_REUSEPORT, for engines that run one listener per loop.
    /// </summary>
    /// <exception cref="SocketException">AddressAlreadyInUse, AddressNotAvailable, AccessDenied.</exception>
    public static Socket CreateListener(EchoServerOptions options, bool reusePort = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        var listener = new Socket(options.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SetReuseAddress(listener);
            if (reusePort)
            {
                SetReusePort(listener);
            }

            listener.Bind(options.EndPoint);
            listener.Listen(options.Backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Options for a freshly accepted connection: no Nagle delay, because an echo is a reply the client is waiting for.</summary>
    public static void ConfigureAccepted(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            socket.NoDelay = true;
        }
        catch (SocketException)
        {
            // Expected when the client reset before we got here (macOS reports EINVAL for setsockopt
            // on such a socket): the engine's first receive will see the reset and close it as usual.
        }
    }

    /// <summary>Closes a connection without letting a failure to close escape: the peer may already be gone.</summary>
    public static void CloseQuietly(Socket socket)
    {
        try
        {
            socket.Dispose();
        }
        catch (SocketException)
        {
            // Expected: closing a socket the peer already reset can report the reset; it is closed either way.
        }
    }

    /// <summary>Shuts the sending side down (FIN) from a thread that does not own the socket; a socket that is already reset or closed needs nothing more.</summary>
    public static void ShutdownSendQuietly(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Expected: the client reset or the owner closed the socket meanwhile; the owner sees that on its next call.
        }
    }

    /// <summary>
    /// Shuts both directions down from a thread that does not own the socket: FIN to the client, and a
    /// receive pending on it completes with end of stream (Linux), so its owner closes it. Nothing is
    /// lost: it is used only on connections with no data in hand.
    /// </summary>
    public static void ShutdownBothQuietly(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Expected: the client reset or the owner closed the socket meanwhile; the owner sees that on its next call.
        }
    }

    /// <summary>
    /// Closes <paramref name="socket"/> with a reset (SO_LINGER 0): what is still unsent is dropped and
    /// the client sees ECONNRESET at once, not a FIN after bytes that will never be read. Used at the
    /// drain deadline only.
    /// </summary>
    public static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Expected: the peer already reset or the socket is closed; closing below is all that is left to do.
        }

        CloseQuietly(socket);
    }

    /// <summary><see cref="Abort(Socket)"/> for a raw descriptor: SO_LINGER 0 for a reset, then close(2). Returns close's result.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("macos")]
    [System.Runtime.Versioning.SupportedOSPlatform("freebsd")]
    public static unsafe int AbortDescriptor(int fd)
    {
        var linger = new Interop.Libc.Linger { OnOff = 1, Seconds = 0 };
        _ = Interop.Libc.SetSockOpt(fd, Interop.Libc.SOL_SOCKET, Interop.Libc.SO_LINGER, &linger, (uint)sizeof(Interop.Libc.Linger)); // a failure leaves an ordinary close, which is still a close
        return Interop.Libc.Close(fd);
    }

    private static void SetReuseAddress(Socket socket)
    {
        // Raw option numbers, because the managed ReuseAddress option means more than SO_REUSEADDR on Unix.
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xffff /* SOL_SOCKET */, 0x4 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        }
    }

    private static void SetReusePort(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xffff /* SOL_SOCKET */, 0x200 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
        }
        else
        {
            throw new PlatformNotSupportedException("SO_REUSEPORT is not available on this OS.");
        }
    }

    /// <summary>True for loopback addresses (127.0.0.0/8, ::1); anything else exposes the server to a network.</summary>
    public static bool IsLoopback(IPAddress address) => IPAddress.IsLoopback(address);
}
