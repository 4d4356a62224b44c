using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IoModels.Cli.Demos;

/// <summary>A scripted loopback client: connect, send a line, wait for its exact uppercase echo, each under the caller's deadline.</summary>
internal sealed class DemoClient : IDisposable
{
    private readonly Socket _socket;

    private DemoClient(Socket socket) => _socket = socket;

    public static async Task<DemoClient> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new DemoClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="text"/> and returns at once; <see cref="ReceiveEchoAsync"/> collects the answer.</summary>
    public async Task SendAsync(string text, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> data = Encoding.UTF8.GetBytes(text);
        while (!data.IsEmpty)
        {
            int sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken);
            data = data[sent..];
        }
    }

    /// <summary>Reads the echo of <paramref name="text"/> in full and checks it is exactly its ASCII uppercase.</summary>
    public async Task ReceiveEchoAsync(string text, CancellationToken cancellationToken)
    {
        byte[] expected = Encoding.UTF8.GetBytes(text);
        AsciiUpper.ToUpperInPlace(expected);
        byte[] buffer = new byte[expected.Length];
        int received = 0;
        while (received < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new CliException(ExitCode.ServerClosed, $"the demo server closed a connection after {received} of {buffer.Length} echoed bytes");
            }

            received += n;
        }

        if (!buffer.AsSpan().SequenceEqual(expected))
        {
            throw new CliException(ExitCode.Failure, "the demo server echoed something other than the uppercase of what was sent");
        }
    }

    /// <summary>One full round trip; returns how long it took.</summary>
    public async Task<TimeSpan> EchoAsync(string text, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await SendAsync(text, cancellationToken);
        await ReceiveEchoAsync(text, cancellationToken);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>An orderly goodbye: shut down our sending side, so the server sees end of stream, then close.</summary>
    public void Leave()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Expected when the server already closed the connection (e.g. it is stopping): nothing to say goodbye to.
        }

        _socket.Dispose();
    }

    public void Dispose() => _socket.Dispose();
}
