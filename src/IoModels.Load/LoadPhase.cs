namespace IoModels.Load;

/// <summary>Where a load run is, reported through <see cref="LoadOptions.PhaseChanged"/> so a caller can sample the server at the edges of the measured window.</summary>
public enum LoadPhase
{
    /// <summary>Every connection is open (or failed) and sending has started.</summary>
    WarmingUp,

    /// <summary>The measured window begins.</summary>
    Measuring,

    /// <summary>The measured window ended; connections are about to close.</summary>
    Finished,
}
