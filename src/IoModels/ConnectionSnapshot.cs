using System.Net;

namespace IoModels;

/// <summary>One open connection as the dashboard shows it.</summary>
public readonly record struct ConnectionSnapshot(long Id, EndPoint? Remote, long BytesIn, long BytesOut, ConnectionActivity Activity);
