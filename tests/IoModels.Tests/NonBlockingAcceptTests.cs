using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests;

/// <summary>The polling engines' accept: "nobody waiting" is a value, a waiting client becomes a working socket.</summary>
public sealed class NonBlockingAcceptTests
{
    [Fact]
    public void An_empty_backlog_answers_would_block_without_throwing()
    {
        using Socket listener = NonBlockingListener();
        Assert.Equal(SocketError.WouldBlock, NonBlockingAccept.TryAccept(listener, out Socket? accepted));
        Assert.Null(accepted);
    }

    [Fact]
    public async Task A_waiting_client_is_accepted_as_a_connected_socket_that_carries_bytes()
    {
        using Socket listener = NonBlockingListener();
        using TestClient client = await TestClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);

        Socket? accepted = null;
        await TaskTimeoutExtensions.Eventually(() => NonBlockingAccept.TryAccept(listener, out accepted) == SocketError.Success, "the client is accepted");
        using Socket server = accepted!;
        Assert.Equal(client.Socket.LocalEndPoint, server.RemoteEndPoint);

        server.Send("ping"u8);
        Assert.Equal("ping"u8.ToArray(), await client.ReceiveExactlyAsync(4));
        Assert.Equal(SocketError.WouldBlock, NonBlockingAccept.TryAccept(listener, out _)); // that was the only one
    }

    [Fact]
    public void A_closed_listener_answers_operation_aborted()
    {
        Socket listener = NonBlockingListener();
        listener.Dispose();
        Assert.Equal(SocketError.OperationAborted, NonBlockingAccept.TryAccept(listener, out Socket? accepted));
        Assert.Null(accepted);
    }

    private static Socket NonBlockingListener()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        listener.Blocking = false;
        return listener;
    }
}
