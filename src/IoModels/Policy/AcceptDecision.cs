namespace IoModels;

/// <summary>One <see cref="AcceptPolicy"/> verdict: the step, and for <see cref="AcceptStep.Pause"/> how long.</summary>
public readonly record struct AcceptDecision(AcceptStep Step, TimeSpan Delay)
{
    public static AcceptDecision Done => new(AcceptStep.Done, TimeSpan.Zero);

    public static AcceptDecision Retry => new(AcceptStep.Retry, TimeSpan.Zero);

    public static AcceptDecision Skip => new(AcceptStep.Skip, TimeSpan.Zero);

    public static AcceptDecision Stop => new(AcceptStep.Stop, TimeSpan.Zero);

    public static AcceptDecision PauseFor(TimeSpan delay) => new(AcceptStep.Pause, delay);

    /// <summary>For a loop that keeps a clock: the <see cref="Environment.TickCount64"/> at which accepting may resume.</summary>
    public long ResumeAt(long now) => now + (long)Math.Ceiling(Delay.TotalMilliseconds);
}
