using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IoModels.Signal;

/// <summary>
/// SIGIO belongs to the whole process, but every running signal-driven engine needs to hear it: this
/// installs one handler for the process and passes each signal on to every subscribed engine.
/// </summary>
/// <remarks>
/// - The runtime's <see cref="PosixSignalRegistration"/> does the part that must be async-signal-safe:
///   its native handler only records the signal, and a runtime thread later calls our handler on a
///   thread-pool thread. Subscribers therefore run as ordinary managed code (they set an event).
/// - The handler sets <see cref="PosixSignalContext.Cancel"/>: otherwise the runtime goes on to the
///   signal's default action, and SIGIO's default action ends the process ("I/O possible").
/// - The registration is created on the first subscription and never disposed. A SIGIO raised just
///   before an engine closed its last socket may still be on its way when the engine stops, and
///   disposing the last registration restores the default action (System.Native pal_signal.c), which
///   would end the process. With no subscriber a signal is simply dropped.
/// - Subscribers are an immutable array, replaced under a lock; the handler reads it without one.
/// </remarks>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal static class SigioDispatcher
{
    private static readonly Lock s_lock = new();
    private static PosixSignalRegistration? s_registration;
    private static Subscription[] s_subscribers = [];

    /// <summary>
    /// Calls <paramref name="onSignal"/> (on a thread-pool thread) for every SIGIO from now until the
    /// returned subscription is disposed. Subscribe before setting O_ASYNC on any descriptor.
    /// </summary>
    public static IDisposable Subscribe(Action onSignal)
    {
        ArgumentNullException.ThrowIfNull(onSignal);
        var subscription = new Subscription(onSignal);
        lock (s_lock)
        {
            // A raw signal number is accepted on Unix: PosixSignal names only the portable few.
            s_registration ??= PosixSignalRegistration.Create((PosixSignal)Interop.Libc.SIGIO, Handle);
            s_subscribers = [.. s_subscribers, subscription];
        }

        return subscription;
    }

    /// <summary>Engines subscribed now (for tests).</summary>
    internal static int SubscriberCount => Volatile.Read(ref s_subscribers).Length;

    private static void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // handled: do not let the runtime apply the default action (terminate)
        foreach (Subscription subscription in Volatile.Read(ref s_subscribers))
        {
            subscription.OnSignal();
        }
    }

    private static void Unsubscribe(Subscription subscription)
    {
        lock (s_lock)
        {
            s_subscribers = Array.FindAll(s_subscribers, s => !ReferenceEquals(s, subscription));
        }
    }

    private sealed class Subscription(Action onSignal) : IDisposable
    {
        public Action OnSignal { get; } = onSignal;

        public void Dispose() => Unsubscribe(this);
    }
}
