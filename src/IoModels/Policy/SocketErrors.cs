using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// The one error policy every engine follows, as predicates used in <c>catch … when</c> and on
/// <see cref="SocketError"/> results: a lost connection is the client's business and ends only that
/// connection; an aborted call while stopping is how a blocked thread learns the server is stopping.
/// </summary>
public static class SocketErrors
{
    /// <summary>The peer reset, aborted or vanished: close this connection, log at debug, carry on.</summary>
    public static bool IsConnectionLost(SocketError error) => error is
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or
        SocketError.NotConnected or SocketError.NetworkReset or SocketError.TimedOut or
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.Disconnecting;

    /// <inheritdoc cref="IsConnectionLost(SocketError)"/>
    public static bool IsConnectionLost(Exception exception) => exception switch
    {
        SocketException socketException => IsConnectionLost(socketException.SocketErrorCode),
        IOException { InnerException: SocketException inner } => IsConnectionLost(inner.SocketErrorCode),
        _ => false,
    };

    /// <summary>The call was cut short because the socket was closed under it, which is how stopping wakes a blocked thread.</summary>
    public static bool IsAborted(SocketError error) => error is SocketError.OperationAborted or SocketError.Interrupted;

    /// <inheritdoc cref="IsAborted(SocketError)"/>
    public static bool IsAborted(Exception exception) => exception switch
    {
        ObjectDisposedException => true,
        SocketException socketException => IsAborted(socketException.SocketErrorCode),
        _ => false,
    };

    /// <summary>
    /// accept failed for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM): retrying at once would
    /// spin, so the engine backs off and tries again.
    /// </summary>
    public static bool IsResourceExhaustion(SocketError error) => error is
        SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;
}
