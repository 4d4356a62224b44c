namespace IoModels;

/// <summary>
/// Optional, beside <see cref="IEchoServer"/>: an engine that can list its open connections, for the
/// dashboard's per-connection rows. Engines that do not implement it simply show no rows.
/// </summary>
public interface IConnectionListing
{
    /// <summary>Up to <paramref name="max"/> open connections, oldest first, read without stopping the engine.</summary>
    IReadOnlyList<ConnectionSnapshot> ListConnections(int max);

    /// <summary>How many connections the listing holds now.</summary>
    int ListedConnections { get; }
}
