using System.Net;
using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// A connection of an engine whose single thread owns every socket and asks each in turn
/// (nonblocking, select, signal): a managed non-blocking <see cref="System.Net.Sockets.Socket"/>.
/// Touched only by the engine thread.
/// </summary>
public sealed class PolledConnection(Socket socket, long id, EndPoint? remote, OutputBuffer output)
    : BufferedConnection(id, remote, output)
{
    public Socket Socket { get; } = socket;
}
