using System.Net.Sockets;

namespace IoModels.Async;

/// <summary>The outcome of one socket operation: bytes moved, or the error, as a value rather than an exception.</summary>
public readonly record struct SocketResult(int BytesTransferred, SocketError Error)
{
    public bool Succeeded => Error == SocketError.Success;
}
