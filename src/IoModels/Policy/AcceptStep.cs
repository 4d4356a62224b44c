namespace IoModels;

/// <summary>What an accept loop does next, as <see cref="AcceptPolicy"/> decides it.</summary>
public enum AcceptStep
{
    /// <summary>Nobody is waiting (would block): wait for the listener's next readiness.</summary>
    Done,
    /// <summary>The call was interrupted before it took anyone (EINTR): call again now.</summary>
    Retry,
    /// <summary>That client died in the backlog or was refused by a rule: accept the next one.</summary>
    Skip,
    /// <summary>Out of descriptors or memory, or an unexpected failure: stop accepting for <see cref="AcceptDecision.Delay"/>, keep serving.</summary>
    Pause,
    /// <summary>The listener was closed because the server is stopping: accept no more.</summary>
    Stop,
}
