using System.Net;

namespace IoModels;

internal static partial class Interop
{
    /// <summary>
    /// Reading the <c>struct sockaddr</c> that accept filled in. Linux starts it with a 16-bit family;
    /// macOS and FreeBSD with an 8-bit length and an 8-bit family. The port and address follow at the
    /// same offsets everywhere (IPv4: port at 2, address at 4; IPv6: port at 2, address at 8, scope at 24).
    /// </summary>
    internal static class SockAddr
    {
        /// <summary>sizeof(struct sockaddr_storage): room for any address family.</summary>
        internal const int StorageSize = 128;

        internal const int AF_INET = 2;

        /// <summary>AF_INET6: 10 on Linux, 30 on macOS, 28 on FreeBSD.</summary>
        internal static readonly int AF_INET6 = OperatingSystem.IsLinux() ? 10 : OperatingSystem.IsMacOS() ? 30 : 28;

        /// <summary>The endpoint in <paramref name="address"/>, or null for a family other than IPv4 and IPv6.</summary>
        internal static unsafe IPEndPoint? ToEndPoint(byte* address, uint length)
        {
            int family = OperatingSystem.IsLinux() ? *(ushort*)address : address[1];
            int port = (address[2] << 8) | address[3];
            if (family == AF_INET && length >= 8)
            {
                return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 4, 4)), port);
            }

            if (family == AF_INET6 && length >= 28)
            {
                return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 8, 16), *(uint*)(address + 24)), port);
            }

            return null;
        }
    }
}
