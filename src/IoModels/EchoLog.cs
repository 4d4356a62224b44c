using System.Net;
using Serilog;

namespace IoModels;

/// <summary>Every log line the engines write, worded in one place. Message templates, never interpolation.</summary>
public static class EchoLog
{
    public static void Listening(ILogger log, string model, EndPoint endPoint) =>
        log.Information("{Model} listening on {EndPoint}", model, endPoint);

    public static void Accepted(ILogger log, string model, long id, EndPoint? remote) =>
        log.Information("{Model} accepted #{Connection} from {Remote}", model, id, remote);

    public static void Closed(ILogger log, string model, long id, EndPoint? remote, long bytesIn, long bytesOut, CloseReason reason) =>
        log.Information("{Model} closed #{Connection} {Remote}: {Reason}, {BytesIn} bytes in, {BytesOut} bytes out",
            model, id, remote, reason, bytesIn, bytesOut);

    public static void Rejected(ILogger log, string model, EndPoint? remote, int limit, long refused) =>
        log.Warning("{Model} refused {Remote} ({Refused} refused since the last such line): the connection limit of {Limit} is reached",
            model, remote, refused, limit);

    public static void DescriptorCap(ILogger log, string model, long descriptorLimit, int capacity, int reserve) =>
        log.Warning("{Model} can hold only {Capacity} connections: the process may open {DescriptorLimit} file descriptors and keeps {Reserve} spare; raise it with ulimit -n",
            model, capacity, descriptorLimit, reserve);

    public static void AcceptBackoff(ILogger log, string model, SocketErrorCode error, TimeSpan delay) =>
        log.Warning("{Model} cannot accept ({Error}: out of file descriptors or buffers); backing off {Delay} ms before accepting again",
            model, error.Value, (int)delay.TotalMilliseconds);

    public static void AcceptFailed(ILogger log, string model, SocketErrorCode error) =>
        log.Debug("{Model} accept failed with {Error}; accepting the next connection", model, error.Value);

    public static void Fault(ILogger log, string model, Exception exception) =>
        log.Error(exception, "{Model} engine fault (a bug): {Message}", model, exception.Message);

    public static void Stopping(ILogger log, string model, long active) =>
        log.Information("{Model} stopping: no new connections, closing {Active} open", model, active);

    public static void Stopped(ILogger log, string model) =>
        log.Information("{Model} stopped; every engine thread has ended", model);

    public static void StopAbandoned(ILogger log, string model, int threads) =>
        log.Warning("{Model} stop gave up waiting for {Threads} engine threads", model, threads);

    public static void Note(ILogger log, string model, string text) =>
        log.Information("{Model}: {Note}", model, text);
}

/// <summary>A socket error code wrapped so log templates render it by name.</summary>
public readonly record struct SocketErrorCode(System.Net.Sockets.SocketError Value);

/// <summary>Why a connection ended.</summary>
public enum CloseReason
{
    /// <summary>The client closed its side (end of stream) and got every echo.</summary>
    ClientClosed,
    /// <summary>The client reset or aborted the connection.</summary>
    Reset,
    /// <summary>No traffic for the idle timeout.</summary>
    IdleTimeout,
    /// <summary>The server is stopping.</summary>
    ServerStopping,
}
