using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using IoModels.Signal;
using IoModels.Tests.Support;

namespace IoModels.Tests.Signal;

[Collection(SigioRunsAlone.Name)]
[SupportedOSPlatform("linux")] // and each test skips elsewhere: the attributes are for the platform analyzer
[SupportedOSPlatform("macos")]
public sealed class SigioDispatcherTests
{
    [SkippableFact]
    public async Task Every_subscriber_hears_SIGIO_until_it_unsubscribes_and_then_the_process_survives_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGIO is driven on Linux and macOS only");
        int first = 0, second = 0;
        IDisposable firstSubscription = SigioDispatcher.Subscribe(() => Interlocked.Increment(ref first));
        IDisposable secondSubscription = SigioDispatcher.Subscribe(() => Interlocked.Increment(ref second));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var clients = new List<TestClient>();
        try
        {
            Assert.Equal(2, SigioDispatcher.SubscriberCount);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(8);
            listener.Blocking = false;
            global::IoModels.Interop.Libc.EnableSigio(listener.SafeHandle);

            // The runtime set O_NONBLOCK with its own constant; seeing it under ours checks ours.
            int flags = global::IoModels.Interop.Libc.GetStatusFlags(listener.SafeHandle);
            Assert.Equal(global::IoModels.Interop.Libc.O_NONBLOCK, flags & global::IoModels.Interop.Libc.O_NONBLOCK);
            Assert.Equal(global::IoModels.Interop.Libc.O_ASYNC, flags & global::IoModels.Interop.Libc.O_ASYNC);

            // A connection arriving on the listener raises SIGIO: both subscribers hear it.
            clients.Add(await TestClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!));
            await TaskTimeoutExtensions.Eventually(() => Volatile.Read(ref first) > 0 && Volatile.Read(ref second) > 0, "both subscribers heard SIGIO");
            await Task.Delay(100); // let any signal already being handed out finish before unsubscribing

            firstSubscription.Dispose();
            int firstAtUnsubscribe = Volatile.Read(ref first);
            int secondBefore = Volatile.Read(ref second);
            clients.Add(await TestClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!));
            await TaskTimeoutExtensions.Eventually(() => Volatile.Read(ref second) > secondBefore, "the remaining subscriber heard the next SIGIO");
            Assert.Equal(firstAtUnsubscribe, Volatile.Read(ref first));

            // With nobody subscribed the handler stays installed: SIGIO's default action would end this process.
            secondSubscription.Dispose();
            Assert.Equal(0, SigioDispatcher.SubscriberCount);
            int secondAtUnsubscribe = Volatile.Read(ref second);
            clients.Add(await TestClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!));
            await Task.Delay(300); // time passing with no subscriber called is what is tested
            Assert.Equal(secondAtUnsubscribe, Volatile.Read(ref second));
        }
        finally
        {
            firstSubscription.Dispose();
            secondSubscription.Dispose();
            clients.ForEach(c => c.Dispose());
        }
    }
}
