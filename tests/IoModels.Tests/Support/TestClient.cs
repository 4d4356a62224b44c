using System.Net;
using System.Net.Sockets;

namespace IoModels.Tests.Support;

/// <summary>A loopback client for the tests: connect, send, and read exactly N bytes, each with a deadline.</summary>
internal sealed class TestClient : IDisposable
{
    private TestClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    public static async Task<TestClient> ConnectAsync(IPEndPoint endPoint, TimeSpan? timeout = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint).WithTimeout(timeout);
            return new TestClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task SendAsync(ReadOnlyMemory<byte> data) => SendAllAsync(Socket, data);

    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None).WithTimeout();
            data = data[sent..];
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails if the stream ends first or the deadline passes.</summary>
    public async Task<byte[]> ReceiveExactlyAsync(int count, TimeSpan? timeout = null)
    {
        byte[] buffer = new byte[count];
        int received = 0;
        using var deadline = new CancellationTokenSource(timeout ?? TaskTimeoutExtensions.DefaultTimeout);
        while (received < count)
        {
            int n = await Socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, deadline.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"The server closed after {received} of {count} bytes.");
            }

            received += n;
        }

        return buffer;
    }

    /// <summary>Waits for the server to end the stream: true for an orderly end (0 bytes), true for a reset too; false if data arrives instead.</summary>
    public async Task<bool> ReceiveEndAsync(TimeSpan? timeout = null)
    {
        byte[] buffer = new byte[1];
        using var deadline = new CancellationTokenSource(timeout ?? TaskTimeoutExtensions.DefaultTimeout);
        try
        {
            return await Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) == 0;
        }
        catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return true; // a refused or closed connection may surface as a reset; either way it ended
        }
    }

    /// <summary>Sends <paramref name="data"/> and checks that exactly its uppercase comes back.</summary>
    public async Task AssertEchoAsync(byte[] data)
    {
        await SendAsync(data);
        byte[] echo = await ReceiveExactlyAsync(data.Length);
        Xunit.Assert.Equal(Reference.Upper(data), echo);
    }

    /// <summary>Closes abortively (RST), as a crashed or killed client would.</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Dispose();
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>The protocol's reference: a scalar, obviously right uppercase, and deterministic test data.</summary>
internal static class Reference
{
    public static byte Upper(byte b) => b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b;

    public static byte[] Upper(ReadOnlySpan<byte> data)
    {
        byte[] result = new byte[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            result[i] = Upper(data[i]);
        }

        return result;
    }

    public static byte[] RandomBytes(int count, int seed)
    {
        byte[] data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>The byte at <paramref name="position"/> of an endless, cheap, deterministic stream with lots of lowercase in it.</summary>
    public static byte StreamByte(long position, int seed) => (byte)((position * 131 + (position >> 8) * 7 + seed) & 0xFF);
}
