using System.Net;

namespace IoModels;

/// <summary>One open connection as the dashboard shows it: who, what moved, what it is doing, and for how long nothing has moved.</summary>
public readonly record struct ConnectionSnapshot(long Id, EndPoint? Remote, long BytesIn, long BytesOut, ConnectionActivity Activity, TimeSpan IdleFor);
