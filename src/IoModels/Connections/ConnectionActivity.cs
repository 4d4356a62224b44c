namespace IoModels;

/// <summary>What a connection is doing, as far as the engine can tell.</summary>
public enum ConnectionActivity
{
    /// <summary>Waiting for the client to send (a thread blocked in Receive, a receive pending, or nothing queued).</summary>
    WaitingForData,
    /// <summary>Sending the echo (a thread blocked in Send, a send pending, or bytes queued for sending).</summary>
    Sending,
    /// <summary>The client has ended its side: the last echoes go out, then the connection closes.</summary>
    Finishing,
    /// <summary>The server is stopping: the echoes are out, our side is shut down (FIN), input is discarded until the client closes.</summary>
    Draining,
}
