using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace IoModels.Async;

/// <summary>
/// A reusable awaitable socket operation: one <see cref="SocketAsyncEventArgs"/> that is also the
/// <see cref="IValueTaskSource{TResult}"/> its awaiters wait on, so awaiting a receive or a send
/// allocates nothing. One instance serves one operation at a time.
/// </summary>
/// <remarks>
/// Modelled on Kestrel's <c>SocketAwaitableEventArgs</c> (aspnetcore, Transport.Sockets): an
/// operation that completes synchronously returns its result directly (the fast path); one that goes
/// pending completes through <see cref="OnCompleted"/>; errors come back as a <see cref="SocketError"/>
/// in the result. Left out: Kestrel's PipeScheduler (continuations run inline on the thread that
/// observed the completion) and its cancellation plumbing (an operation ends when the socket closes).
/// </remarks>
internal sealed class SocketAwaitableEventArgs : SocketAsyncEventArgs, IValueTaskSource<SocketResult>
{
    private ManualResetValueTaskSourceCore<SocketResult> _source;

    public SocketAwaitableEventArgs()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    public ValueTask<SocketResult> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        _source.Reset();
        SetBuffer(buffer);
        return socket.ReceiveAsync(this) ? Pending() : CompletedSynchronously();
    }

    public ValueTask<SocketResult> SendAsync(Socket socket, ReadOnlyMemory<byte> buffer)
    {
        _source.Reset();
        // SocketAsyncEventArgs takes Memory<byte>; the send only reads it.
        SetBuffer(System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer));
        return socket.SendAsync(this) ? Pending() : CompletedSynchronously();
    }

    /// <summary>Accepts one connection; on success it is in <see cref="SocketAsyncEventArgs.AcceptSocket"/>.</summary>
    public ValueTask<SocketResult> AcceptAsync(Socket listener)
    {
        _source.Reset();
        AcceptSocket = null;
        SetBuffer(Memory<byte>.Empty);
        return listener.AcceptAsync(this) ? Pending() : CompletedSynchronously();
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) =>
        _source.SetResult(new SocketResult(BytesTransferred, SocketError));

    private ValueTask<SocketResult> Pending() => new(this, _source.Version);

    private ValueTask<SocketResult> CompletedSynchronously() => new(new SocketResult(BytesTransferred, SocketError));

    SocketResult IValueTaskSource<SocketResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<SocketResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
