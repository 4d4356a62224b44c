namespace IoModels.Tests.Reliability;

/// <summary>What a fault-injection run did, summed over its clients (updated with Interlocked from every client).</summary>
internal sealed class FaultTally
{
    public long Sessions;
    public long Reconnects;
    public long Resets;
    public long HalfCloses;
    public long Closes;
    public long ZeroByteSends;
    public long SplitSends;
    public long SendPauses;
    public long ReadStalls;
    public long SmallReads;
    public long BytesOffered;
    public long BytesVerified;

    /// <summary>Every deliberate fault or awkward client behaviour, counted once each.</summary>
    public long FaultsInjected =>
        Reconnects + Resets + HalfCloses + Closes + ZeroByteSends + SplitSends + SendPauses + ReadStalls + SmallReads;

    public override string ToString() =>
        $"{Sessions} sessions, {FaultsInjected} faults injected (reconnects {Reconnects}, resets {Resets}, half-closes {HalfCloses}, " +
        $"closes {Closes}, 0-byte sends {ZeroByteSends}, split sends {SplitSends}, send pauses {SendPauses}, " +
        $"read stalls {ReadStalls}, small reads {SmallReads}), {BytesOffered} bytes sent, {BytesVerified} bytes verified";
}
