namespace IoModels.Uring;

/// <summary>
/// What an io_uring operation was, kept in the low byte of its user_data (the connection id is in
/// the other 56 bits), so a completion says which connection and which step it finishes.
/// </summary>
internal enum UringOp : byte
{
    /// <summary>The loop's accept on its listener (multishot: one completion per client).</summary>
    Accept = 1,
    /// <summary>The timer that re-arms accept after an EMFILE back-off.</summary>
    AcceptRetry,
    /// <summary>The read of the wake eventfd: completes when stop asks the loop to end.</summary>
    Wake,
    /// <summary>An IORING_OP_ASYNC_CANCEL of another operation.</summary>
    Cancel,
    /// <summary>A receive into the connection's receive buffer.</summary>
    Receive,
    /// <summary>A send from the connection's send buffer.</summary>
    Send,
    /// <summary>shutdown(SHUT_WR) after the last echo: to a client that half-closed, or to every client while stopping.</summary>
    Shutdown,
    /// <summary>A receive while stopping, after our FIN: into the receive buffer, only to be thrown away until the client closes.</summary>
    Discard,
    /// <summary>The close of the connection's descriptor: the last step of every connection.</summary>
    Close,
}
