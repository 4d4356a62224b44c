namespace IoModels;

/// <summary>What one non-blocking receive on a polled connection did (<see cref="EchoServerBase"/>'s ReceiveSome).</summary>
public enum ReceiveOutcome
{
    /// <summary>Bytes arrived, were uppercased and queued for the echo.</summary>
    Received,
    /// <summary>Nothing was there yet.</summary>
    WouldBlock,
    /// <summary>The client shut down its sending side.</summary>
    Ended,
    /// <summary>The receive failed and the connection is closed: do not touch it again.</summary>
    Closed,
}
