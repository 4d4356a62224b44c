using System.Net;
using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// One client of an engine whose single thread owns every socket and asks each in turn (nonblocking,
/// select, signal): the socket, its bounded output buffer, and the bookkeeping for the close log and
/// the idle timeout. Touched only by the engine thread, so nothing here is synchronised.
/// </summary>
public sealed class PolledConnection(Socket socket, long id, EndPoint? remote, OutputBuffer output)
{
    public Socket Socket { get; } = socket;

    public long Id { get; } = id;

    public EndPoint? Remote { get; } = remote;

    /// <summary>Received and uppercased, not yet sent: bounded, so a client that stops reading stops being read.</summary>
    public OutputBuffer Output { get; } = output;

    public long BytesIn { get; set; }

    public long BytesOut { get; set; }

    /// <summary><see cref="Environment.TickCount64"/> when bytes last moved, for the idle timeout.</summary>
    public long LastActive { get; set; } = Environment.TickCount64;

    /// <summary>The kernel's send queue at the last idle look, -1 for none (see <see cref="IdleRule"/>).</summary>
    public int UnsentSample { get; set; } = -1;

    /// <summary>The client shut down its sending side; close once <see cref="Output"/> is empty.</summary>
    public bool ReceivedEnd { get; set; }

    /// <summary>Stopping: every echo is out and our sending side is shut down (FIN sent); input is now read only to be discarded.</summary>
    public bool SendShut { get; set; }

    /// <summary>Closed already: a second close is a no-op.</summary>
    public bool Closed { get; set; }
}
