namespace IoModels;

/// <summary>What a connection is doing, as far as the engine can tell.</summary>
public enum ConnectionActivity
{
    /// <summary>Waiting for the client to send (a thread blocked in Receive, or a receive pending).</summary>
    WaitingForData,
    /// <summary>Sending the echo (a thread blocked in Send, or a send pending).</summary>
    Sending,
}
