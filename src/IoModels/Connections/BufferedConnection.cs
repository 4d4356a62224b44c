using System.Net;

namespace IoModels;

/// <summary>
/// A connection of an engine whose one loop thread owns many connections (nonblocking, select,
/// signal, epoll, uring): what it received and has not yet sent waits in its bounded
/// <see cref="Output"/> between the loop's visits.
/// </summary>
public abstract class BufferedConnection(long id, EndPoint? remote, OutputBuffer output) : Connection(id, remote)
{
    /// <summary>Received and uppercased, not yet sent: bounded, so a client that stops reading stops being read.</summary>
    public OutputBuffer Output { get; } = output;

    public override ConnectionActivity Activity =>
        !SendShut && !Output.IsEmpty ? ConnectionActivity.Sending : base.Activity;
}
