using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests.Load;

/// <summary>
/// A test-only echo server that gets the protocol wrong on purpose, to prove the load generator
/// notices: it uppercases correctly except that it flips one bit of every <c>corruptEvery</c>-th byte
/// of each connection's stream (sparing the first <c>cleanConnections</c> it accepts), or closes
/// each connection after <c>closeAfter</c> bytes, or (<c>uppercase: false</c>) echoes without uppercasing.
/// </summary>
internal sealed class FaultyEchoServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly int _corruptEvery;
    private readonly long _closeAfter;
    private readonly int _cleanConnections;
    private readonly bool _uppercase;
    private readonly Task _acceptLoop;

    public FaultyEchoServer(int corruptEvery = 0, long closeAfter = long.MaxValue, int cleanConnections = 0, bool uppercase = true)
    {
        _uppercase = uppercase;
        _corruptEvery = corruptEvery;
        _cleanConnections = cleanConnections;
        _closeAfter = closeAfter;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    private async Task AcceptLoopAsync()
    {
        int accepted = 0;
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return; // stopping: the listener was closed or the token fired
            }

            lock (_tasks)
            {
                bool corrupt = _corruptEvery > 0 && ++accepted > _cleanConnections;
                _tasks.Add(Task.Run(() => ServeAsync(client, corrupt)));
            }
        }
    }

    private async Task ServeAsync(Socket client, bool corrupt)
    {
        using (client)
        {
            byte[] buffer = new byte[4096];
            long position = 0;
            try
            {
                while (position < _closeAfter)
                {
                    int received = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (received == 0)
                    {
                        return;
                    }

                    for (int i = 0; i < received; i++, position++)
                    {
                        buffer[i] = _uppercase ? AsciiUpper.ToUpper(buffer[i]) : buffer[i];
                        if (corrupt && position % _corruptEvery == _corruptEvery - 1)
                        {
                            buffer[i] ^= 0x01;
                        }
                    }

                    await client.SendAsync(buffer.AsMemory(0, received), SocketFlags.None, _stop.Token);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Expected: the load generator closes its connections at the end of its run, or the test stops us.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop.WithTimeout();
        Task[] tasks;
        lock (_tasks)
        {
            tasks = [.. _tasks];
        }

        await Task.WhenAll(tasks).WithTimeout();
        _stop.Dispose();
    }
}
