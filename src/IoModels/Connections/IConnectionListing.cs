namespace IoModels;

/// <summary>
/// Beside <see cref="IEchoServer"/>: the open connections, for the dashboard's per-connection rows and
/// <c>--trace</c>. Every engine lists its connections (<see cref="EchoServerBase"/> implements it once).
/// </summary>
public interface IConnectionListing
{
    /// <summary>Up to <paramref name="max"/> open connections, oldest first, read without stopping the engine.</summary>
    IReadOnlyList<ConnectionSnapshot> ListConnections(int max);

    /// <summary>How many connections the listing holds now.</summary>
    int ListedConnections { get; }
}
