namespace IoModels;

/// <summary>Why a connection ended.</summary>
public enum CloseReason
{
    /// <summary>The client closed its side (end of stream) and got every echo.</summary>
    ClientClosed,
    /// <summary>The client reset or aborted the connection.</summary>
    Reset,
    /// <summary>Nothing moved for the idle timeout and nothing was pending: closed with FIN.</summary>
    IdleTimeout,
    /// <summary>Nothing moved for the idle timeout with echoes pending: the client stopped reading; reset.</summary>
    IdleStalled,
    /// <summary>The server stopped: every echo was sent, our side was shut down (FIN) and the client then closed.</summary>
    Drained,
    /// <summary>The server stopped and the drain deadline passed (or the engine could not drain): cut with a reset.</summary>
    ServerStopping,
}
