using System.Net.Sockets;

namespace IoModels;

/// <summary>
/// The one idle rule every engine applies. A connection is idle when no byte moved in either direction
/// for the idle timeout: nothing received, and nothing of its echo taken by the kernel or, once taken,
/// read by the client. The last part needs the kernel: a slow reader working through echoes already in
/// our send queue moves bytes the engine never sees, so the rule watches that queue shrink. An idle
/// connection with nothing pending is closed with FIN (<see cref="CloseReason.IdleTimeout"/>); one with
/// echoes pending, in the engine or in the kernel's send queue, has a client that stopped reading, and
/// is reset (<see cref="CloseReason.IdleStalled"/>).
/// </summary>
public sealed class IdleRule
{
    /// <summary>Not more often than this, because a look walks every connection (and may ask the kernel about each).</summary>
    private const long ShortestSweepMilliseconds = 10;

    public IdleRule(TimeSpan? timeout)
    {
        Enabled = timeout is not null;
        TimeoutMilliseconds = timeout is { } t ? (long)Math.Ceiling(t.TotalMilliseconds) : long.MaxValue;
        SweepMilliseconds = timeout is null ? long.MaxValue / 2 : Math.Max(TimeoutMilliseconds / 4, ShortestSweepMilliseconds);
    }

    public bool Enabled { get; }

    public long TimeoutMilliseconds { get; }

    /// <summary>
    /// How often an engine looks: a quarter of the timeout, so a connection is closed at most 25% late,
    /// and a shrinking send queue is seen at least three times before a verdict.
    /// </summary>
    public long SweepMilliseconds { get; }

    public TimeSpan SweepPeriod => TimeSpan.FromMilliseconds(SweepMilliseconds);

    /// <summary>
    /// One look at one connection, once a sweep. <paramref name="lastActive"/> is when the engine last
    /// moved bytes for it (<see cref="Environment.TickCount64"/>), <paramref name="echoPending"/> whether
    /// it holds echo bytes not yet given to the kernel, <paramref name="unsentSample"/> the kernel's send
    /// queue at the previous look (-1: none), replaced by this look's. <see cref="IdleVerdict.Moved"/>
    /// means the client read meanwhile: the caller sets its clock to <paramref name="now"/>.
    /// </summary>
    public IdleVerdict Check(long lastActive, long now, nint fd, bool echoPending, ref int unsentSample)
    {
        long silentFor = now - lastActive;
        if (!Enabled || silentFor < SweepMilliseconds)
        {
            unsentSample = -1; // busy: no need to ask the kernel
            return IdleVerdict.Active;
        }

        int previous = unsentSample;
        int unsent = Interop.SendQueue.Unsent(fd);
        unsentSample = unsent;
        if (previous >= 0 && unsent >= 0 && unsent != previous)
        {
            return IdleVerdict.Moved; // the client read (or the engine sent) since the last look
        }

        if (silentFor < TimeoutMilliseconds)
        {
            return IdleVerdict.Active;
        }

        return echoPending || unsent > 0 ? IdleVerdict.Stalled : IdleVerdict.Silent;
    }

    /// <summary><see cref="Check(long, long, nint, bool, ref int)"/> for a managed socket.</summary>
    public IdleVerdict Check(long lastActive, long now, Socket socket, bool echoPending, ref int unsentSample)
    {
        ArgumentNullException.ThrowIfNull(socket);
        nint fd;
        try
        {
            fd = socket.Handle;
        }
        catch (ObjectDisposedException)
        {
            return IdleVerdict.Active; // Expected: closed meanwhile; its owner reports how it ended.
        }

        return Check(lastActive, now, fd, echoPending, ref unsentSample);
    }

    /// <summary>The close an idle verdict calls for.</summary>
    public static CloseReason CloseReasonOf(IdleVerdict verdict) =>
        verdict == IdleVerdict.Stalled ? CloseReason.IdleStalled : CloseReason.IdleTimeout;
}

/// <summary>What <see cref="IdleRule.Check(long, long, nint, bool, ref int)"/> found.</summary>
public enum IdleVerdict
{
    /// <summary>Not idle.</summary>
    Active,
    /// <summary>The kernel's send queue changed since the last look: bytes moved; reset the clock.</summary>
    Moved,
    /// <summary>Idle with nothing pending: close with FIN.</summary>
    Silent,
    /// <summary>Idle with echoes pending: the client stopped reading; reset.</summary>
    Stalled,
}
