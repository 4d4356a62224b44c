using System.Net;

namespace IoModels;

/// <summary>
/// One uppercase-echo server built on one IO model. Every engine implements exactly this, so the
/// CLI, the benchmark and the conformance suite treat them alike.
/// </summary>
/// <remarks>
/// Life cycle: construct (nothing is bound yet) → <see cref="Start"/> (binds and listens, throws
/// <see cref="System.Net.Sockets.SocketException"/> if the address is in use or not available) →
/// serve → <see cref="StopAsync"/> (stops accepting and reading, drains every connection: its echoes
/// sent, then FIN; resets what is left at <see cref="EchoServerOptions.DrainTimeout"/>; joins every
/// thread the engine started) → dispose. Stop and dispose are idempotent.
/// </remarks>
public interface IEchoServer : IAsyncDisposable
{
    /// <summary>The registry name of the model this engine shows, e.g. <c>blocking</c>.</summary>
    string Model { get; }

    /// <summary>The bound endpoint; with port 0 in the options this reports the port the OS chose.</summary>
    /// <exception cref="InvalidOperationException">The server has not been started.</exception>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Live counters, safe to read from any thread while the server runs.</summary>
    EchoStatistics Statistics { get; }

    /// <summary>Binds, listens and starts serving on the engine's own threads. Returns once clients can connect.</summary>
    void Start();

    /// <summary>
    /// Stops gracefully: no new connections and no new reads; every byte already read is echoed and each
    /// connection closed with FIN once its client closes too; what is still open at the drain deadline is
    /// reset (<see cref="EchoCounter.BytesNotEchoed"/> counts what that lost); every engine thread joined.
    /// If <paramref name="cancellationToken"/> fires first, the remaining threads are abandoned and the
    /// method returns; the threads are background threads and die with the process.
    /// </summary>
    Task StopAsync(CancellationToken cancellationToken = default);
}
