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
        log.Information("{Model} closed #{Connection} {Remote}: {Reason} ({How}), {BytesIn} bytes in, {BytesOut} bytes out",
            model, id, remote, reason, Describe(reason), bytesIn, bytesOut);

    /// <summary>What each close reason means for the client, for the close log line.</summary>
    private static string Describe(CloseReason reason) => reason switch
    {
        CloseReason.ClientClosed => "the client finished sending; every echo sent, then FIN",
        CloseReason.Reset => "the client reset or aborted",
        CloseReason.IdleTimeout => "idle, nothing pending: FIN",
        CloseReason.IdleStalled => "idle with echoes pending, the client stopped reading: reset",
        CloseReason.Drained => "stopping: every echo sent, FIN, the client closed",
        CloseReason.ServerStopping => "stopping: cut at the drain deadline with a reset",
        _ => reason.ToString(),
    };

    public static void Rejected(ILogger log, string model, EndPoint? remote, int limit, long refused) =>
        log.Warning("{Model} refused {Remote} ({Refused} refused since the last such line): the connection limit of {Limit} is reached",
            model, remote, refused, limit);

    public static void AcceptBackoff(ILogger log, string model, SocketErrorCode error, TimeSpan delay) =>
        log.Warning("{Model} cannot accept ({Error}: out of file descriptors or buffers); backing off {Delay} ms before accepting again",
            model, error.Value, (int)delay.TotalMilliseconds);

    public static void AcceptFailed(ILogger log, string model, SocketErrorCode error) =>
        log.Debug("{Model} accept failed with {Error}; accepting the next connection", model, error.Value);

    public static void Fault(ILogger log, string model, Exception exception) =>
        log.Error(exception, "{Model} engine fault (a bug): {Message}", model, exception.Message);

    public static void Stopping(ILogger log, string model, long active, TimeSpan deadline) =>
        log.Information("{Model} stopping: no new connections or reads; draining {Active} open (echoes out, then FIN) for at most {Deadline} ms",
            model, active, (long)deadline.TotalMilliseconds);

    public static void DrainDeadline(ILogger log, string model, long remaining) =>
        log.Warning("{Model} drain deadline passed with {Remaining} connections open: resetting them", model, remaining);

    public static void Stopped(ILogger log, string model, long drained, long cut, long notEchoed) =>
        log.Information("{Model} stopped; every engine thread has ended: {Drained} connections drained, {Cut} reset at the deadline, {NotEchoed} bytes read and never echoed",
            model, drained, cut, notEchoed);

    public static void Note(ILogger log, string model, string text) =>
        log.Information("{Model}: {Note}", model, text);

    // ---- serve --trace: one step as it happens (the first few of each kind per interval) ----

    /// <summary>Narrates one engine step at Debug level; <paramref name="a"/> and <paramref name="b"/> as <see cref="TraceEvent"/> defines them.</summary>
    public static void TraceStep(ILogger log, string model, TraceEvent kind, long connection, long a, long b)
    {
        Thread current = Thread.CurrentThread;
        string thread = current.IsThreadPoolThread
            ? $"pool thread {Environment.CurrentManagedThreadId}"
            : current.Name ?? $"thread {Environment.CurrentManagedThreadId}";
        switch (kind)
        {
            case TraceEvent.AcceptWaiting:
                log.Debug("{Model} [{Thread}] blocks in Accept until the next client connects", model, thread);
                break;
            case TraceEvent.ReceiveWaiting:
                log.Debug("{Model} [{Thread}] blocks in Receive for client #{Connection}: waiting for data (phase 1), this thread can do nothing else", model, thread, connection);
                break;
            case TraceEvent.ReceiveReturned when a == 0:
                log.Debug("{Model} [{Thread}] Receive for client #{Connection} returned 0 bytes: the client closed its side (end of stream)", model, thread, connection);
                break;
            case TraceEvent.ReceiveReturned:
                log.Debug("{Model} [{Thread}] Receive for client #{Connection} returned {Bytes} bytes: data arrived and was copied in (phase 2), the thread runs again", model, thread, connection, a);
                break;
            case TraceEvent.OperationPending:
                log.Debug("{Model} client #{Connection}: receive is pending; [{Thread}] returns to the pool and no thread waits for this client", model, connection, thread);
                break;
            case TraceEvent.CompletionArrived when a == 0:
                log.Debug("{Model} client #{Connection}: the pending receive completed (data or end of stream is there); [{Thread}] picks the connection up", model, connection, thread);
                break;
            case TraceEvent.CompletionArrived:
                log.Debug("{Model} client #{Connection}: completion arrived with {Bytes} bytes already in the buffer; [{Thread}] picks the connection up", model, connection, a, thread);
                break;
            case TraceEvent.SweepFinished:
                log.Debug("{Model} [{Thread}] swept {Sockets} sockets; {WouldBlock} calls would have blocked", model, thread, a, b);
                break;
            case TraceEvent.SelectReturned:
                log.Debug("{Model} [{Thread}] select on {Sockets} sockets returned {Ready} ready", model, thread, a, b);
                break;
            case TraceEvent.EventsReturned:
                log.Debug("{Model} [{Thread}] wait returned {Events} events ({Registered} sockets registered)", model, thread, a, b);
                break;
            case TraceEvent.SignalArrived:
                log.Debug("{Model} [{Thread}] SIGIO arrived: something is ready; tried {Sockets} sockets, {Ready} had data", model, thread, a, b);
                break;
            case TraceEvent.CompletionsReaped:
                log.Debug("{Model} [{Thread}] io_uring wait returned {Completions} completions ({Submissions} submitted)", model, thread, a, b);
                break;
            default:
                log.Debug("{Model} [{Thread}] {Event} #{Connection} {A} {B}", model, thread, kind, connection, a, b);
                break;
        }
    }

    // ---- serve --trace: once per interval, the events of one kind that were only counted ----

    /// <summary>Summarises <paramref name="count"/> events of one kind over <paramref name="interval"/>, with the sums of their numbers.</summary>
    public static void TraceSummary(ILogger log, string model, TraceEvent kind, long count, long sumA, long sumB, TimeSpan interval)
    {
        double seconds = interval.TotalSeconds;
        long unshown = count - TraceAggregator.DetailedPerInterval;
        double perA = count == 0 ? 0 : (double)sumA / count;
        double perB = count == 0 ? 0 : (double)sumB / count;
        switch (kind)
        {
            case TraceEvent.AcceptWaiting:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} waits in Accept ({Unshown} not shown)", model, seconds, count, unshown);
                break;
            case TraceEvent.ReceiveWaiting:
                log.Debug("{Model} in the last {Seconds:0.0}s: a thread blocked in Receive {Count} times ({Unshown} not shown)", model, seconds, count, unshown);
                break;
            case TraceEvent.ReceiveReturned:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} blocking Receives returned, {Bytes} bytes in all ({Unshown} not shown)", model, seconds, count, sumA, unshown);
                break;
            case TraceEvent.OperationPending:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} receives went pending with no thread waiting ({Unshown} not shown)", model, seconds, count, unshown);
                break;
            case TraceEvent.CompletionArrived:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} completions arrived, {Bytes} bytes ({Unshown} not shown)", model, seconds, count, sumA, unshown);
                break;
            case TraceEvent.SweepFinished:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} sweeps, {PerSweep:0.#} sockets tried per sweep, {WouldBlock} calls would have blocked", model, seconds, count, perA, sumB);
                break;
            case TraceEvent.SelectReturned:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} select calls, {Scanned:0.#} sockets passed per call, {Ready:0.##} ready per call", model, seconds, count, perA, perB);
                break;
            case TraceEvent.EventsReturned:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} waits, {Events:0.##} events per wait, {Registered:0} sockets registered", model, seconds, count, perA, perB);
                break;
            case TraceEvent.SignalArrived:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} signals, {Tried:0.#} sockets tried per signal, {Ready:0.##} with data", model, seconds, count, perA, perB);
                break;
            case TraceEvent.CompletionsReaped:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} io_uring waits, {Completions:0.##} completions per wait", model, seconds, count, perA);
                break;
            default:
                log.Debug("{Model} in the last {Seconds:0.0}s: {Count} x {Event}", model, seconds, count, kind);
                break;
        }
    }
}
