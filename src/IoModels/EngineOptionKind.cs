namespace IoModels;

/// <summary>How an <see cref="EngineOption"/>'s value is written.</summary>
public enum EngineOptionKind
{
    /// <summary>A whole number in a range (workers, loops).</summary>
    Count,
    /// <summary>A length of time (a poll interval, a select timeout).</summary>
    Duration,
    /// <summary>On or off (edge-triggered).</summary>
    Switch,
}
