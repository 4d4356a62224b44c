using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;

namespace IoModels.Benchmarks;

/// <summary>
/// Whole echoes through each engine of the registry, in this process, to show with the memory
/// diagnoser that no engine allocates per message once it is running: one client sends a 32-byte
/// message and reads its 32-byte echo, 100 times per invocation (reported per round trip). The
/// client's own calls (synchronous Send and Receive on spans) allocate nothing, and the diagnoser
/// counts every thread of the process, the engine's included, so "Allocated" is what the engine (and
/// the runtime under it) spends per echoed message: "-" means zero. The connection is opened once, in the setup: what a connection costs is not a
/// per-message cost.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project tests/IoModels.Benchmarks -- --filter '*EngineEcho*' --job short</c>.
/// Models this OS cannot run are skipped by the setup with the registry's reason.
/// </remarks>
[MemoryDiagnoser]
public class EngineEchoBenchmarks : IDisposable
{
    private const int RoundTrips = 100;
    private const int MessageSize = 32;

    private readonly byte[] _message = new byte[MessageSize];
    private readonly byte[] _echo = new byte[MessageSize];
    private IEchoServer? _server;
    private Socket? _client;

    /// <summary>Every model in the registry.</summary>
    public static IEnumerable<string> Models => ModelRegistry.All.Select(m => m.Name);

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = ModelRegistry.DefaultModel;

    [GlobalSetup]
    public void Setup()
    {
        ModelInfo model = ModelRegistry.Find(Model)!;
        if (!model.IsSupported)
        {
            throw new PlatformNotSupportedException($"{Model}: {model.UnsupportedReason}");
        }

        "the quick brown fox jumps over t"u8.CopyTo(_message);
        _server = model.Create(new EchoServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        _server.Start();
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _client.Connect(_server.LocalEndPoint);
        RoundTrip(); // the first echo: the engine has accepted and set the connection up
    }

    /// <summary>100 echoes of 32 bytes, each sent only after the previous one came back whole.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public int HundredRoundTrips()
    {
        int received = 0;
        for (int i = 0; i < RoundTrips; i++)
        {
            received += RoundTrip();
        }

        return received;
    }

    private int RoundTrip()
    {
        _client!.Send(_message);
        int received = 0;
        while (received < MessageSize)
        {
            int count = _client.Receive(_echo.AsSpan(received));
            if (count == 0)
            {
                throw new InvalidOperationException($"{Model} closed the connection mid-echo");
            }

            received += count;
        }

        if (_echo[0] != (byte)'T')
        {
            throw new InvalidOperationException($"{Model} echoed 0x{_echo[0]:x2} where 'T' was due");
        }

        return received;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            _server.StopAsync().Wait(TimeSpan.FromSeconds(10));
            _server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        }

        GC.SuppressFinalize(this);
    }
}
