namespace IoModels;

/// <summary>A socket error code wrapped so log templates render it by name.</summary>
public readonly record struct SocketErrorCode(System.Net.Sockets.SocketError Value);
