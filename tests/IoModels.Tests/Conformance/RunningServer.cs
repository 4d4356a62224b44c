using IoModels.Tests.Support;

namespace IoModels.Tests.Conformance;

/// <summary>
/// A started engine for one test. Disposing stops it within a deadline and checks what every engine
/// owes on stop: no thread left running, no connection left counted, no fault (a caught bug) logged.
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(IEchoServer server, EchoServerOptions options)
    {
        Server = server;
        Options = options;
    }

    public IEchoServer Server { get; }

    public EchoServerOptions Options { get; }

    public EchoStatistics Statistics => Server.Statistics;

    public System.Net.IPEndPoint EndPoint => Server.LocalEndPoint;

    public static RunningServer Start(EngineCase engine, Func<EchoServerOptions, EchoServerOptions>? adjust = null)
    {
        ModelInfo model = ModelRegistry.Find(engine.Model)!;
        Xunit.Skip.IfNot(model.IsSupported, $"{model.Name} is not available on this OS: {model.UnsupportedReason}");
        EchoServerOptions options = EngineCases.OptionsFor(engine, adjust);
        IEchoServer server = model.Create(options);
        server.Start();
        return new RunningServer(server, options);
    }

    public Task<TestClient> ConnectAsync() => TestClient.ConnectAsync(EndPoint);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.StopAsync().WithTimeout(TimeSpan.FromSeconds(10));
            Assert.Equal(0, Statistics[EchoCounter.Threads]);
            Assert.Equal(0, Statistics[EchoCounter.ConnectionsActive]);
            Assert.Equal(0, Statistics[EchoCounter.Faults]);
        }
        finally
        {
            await Server.DisposeAsync(); // also when a check failed: a leaking server must not disturb the next tests
        }
    }
}
