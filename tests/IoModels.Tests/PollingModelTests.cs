using System.Net;
using System.Net.Sockets;
using IoModels.Tests.Conformance;
using IoModels.Tests.Support;
using Serilog.Core;
using Serilog.Events;

namespace IoModels.Tests;

/// <summary>
/// What the two polling models must show beyond the shared contract: one thread for every client,
/// the non-blocking sweep's wasted calls (and the sleep that trades them away), select's timeouts.
/// </summary>
public sealed class PollingModelTests
{
    [Theory]
    [InlineData("nonblocking")]
    [InlineData("select")]
    public async Task Three_clients_at_once_are_served_by_one_engine_thread(string model)
    {
        await using var server = RunningServer.Start(EngineCases.Get(model));
        using TestClient first = await server.ConnectAsync();
        using TestClient second = await server.ConnectAsync();
        using TestClient third = await server.ConnectAsync();
        for (int round = 0; round < 3; round++)
        {
            await first.AssertEchoAsync("one"u8.ToArray());
            await second.AssertEchoAsync("two"u8.ToArray());
            await third.AssertEchoAsync("three"u8.ToArray());
        }

        Assert.Equal(3, server.Statistics[EchoCounter.ConnectionsActive]);
        Assert.Equal(1, server.Statistics[EchoCounter.Threads]);
        Assert.Equal(1, server.Statistics[EchoCounter.PeakThreads]);
    }

    [Fact]
    public async Task Nonblocking_keeps_asking_an_idle_client_and_every_answer_is_would_block()
    {
        await using var server = RunningServer.Start(EngineCases.Get("nonblocking"));
        using TestClient idle = await server.ConnectAsync();
        await idle.AssertEchoAsync("hi"u8.ToArray());
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BufferedBytes] == 0, "the echo is out");

        StatisticsSnapshot before = server.Statistics.Snapshot();
        await Task.Delay(300); // the measuring window: how often it sweeps while idle is what is tested
        StatisticsSnapshot after = server.Statistics.Snapshot();
        long Delta(EchoCounter c) => after[c] - before[c];

        Assert.True(Delta(EchoCounter.Sweeps) > 100, $"the engine swept only {Delta(EchoCounter.Sweeps)} times in 300 ms: it should spin");
        Assert.True(Delta(EchoCounter.WouldBlock) > 100, "each sweep asks the idle client and hears would-block");
        Assert.True(Delta(EchoCounter.AcceptWouldBlock) > 100, "each sweep asks the listener too");
        Assert.Equal(0, Delta(EchoCounter.BytesIn));
        // Nothing to send, so every call in the window was a receive that would have blocked. (The counters
        // are read one after another while the engine runs, so allow the few calls made in between.)
        Assert.InRange((double)Delta(EchoCounter.WouldBlock) / Delta(EchoCounter.ReceiveCalls), 0.9, 1.1);
        Assert.Equal(0, Delta(EchoCounter.SendCalls));
    }

    [Fact]
    public async Task Nonblocking_with_a_poll_interval_sleeps_after_empty_sweeps_and_still_echoes()
    {
        await using var server = RunningServer.Start(EngineCases.Get("nonblocking"), o => o with { PollInterval = TimeSpan.FromMilliseconds(50) });
        using TestClient client = await server.ConnectAsync();
        await client.AssertEchoAsync("before the nap"u8.ToArray());

        long sweeps = server.Statistics[EchoCounter.Sweeps];
        await Task.Delay(1000); // the measuring window: how few sweeps a second of idleness costs is what is tested
        long swept = server.Statistics[EchoCounter.Sweeps] - sweeps;
        Assert.InRange(swept, 1, 60); // about 20 empty sweeps in a second, 50 ms apart; a spinning loop makes many thousands

        await client.AssertEchoAsync("after the nap"u8.ToArray());
    }

    [Theory]
    [InlineData(0, "spins one core at 100%")]
    [InlineData(5, "sleeps for the poll interval")]
    public async Task Nonblocking_says_at_start_what_its_sweep_will_cost(int pollIntervalMs, string expected)
    {
        var sink = new CollectingSink();
        using Logger logger = new Serilog.LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();
        await using var server = RunningServer.Start(EngineCases.Get("nonblocking"),
            o => o with { Logger = logger, PollInterval = TimeSpan.FromMilliseconds(pollIntervalMs) });
        Assert.Contains(sink.Messages, m => m.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Select_times_out_while_nobody_sends_having_scanned_every_socket_each_time()
    {
        await using var server = RunningServer.Start(EngineCases.Get("select"), o => o with { SelectTimeout = TimeSpan.FromMilliseconds(50) });
        using TestClient a = await server.ConnectAsync();
        using TestClient b = await server.ConnectAsync();
        await a.AssertEchoAsync("a"u8.ToArray());
        await b.AssertEchoAsync("b"u8.ToArray());

        // The loop publishes its counts once per wait: only once a timeout shows are the counts of the
        // pass that echoed "b" surely in, so the baseline is taken after the first quiet wait.
        long timeouts = server.Statistics[EchoCounter.WaitTimeouts];
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.WaitTimeouts] > timeouts, "a wait times out");
        timeouts = server.Statistics[EchoCounter.WaitTimeouts];
        long ready = server.Statistics[EchoCounter.ReadyEvents];
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.WaitTimeouts] >= timeouts + 3, "three more waits time out");
        Assert.Equal(ready, server.Statistics[EchoCounter.ReadyEvents]);
        Assert.Equal(0, server.Statistics[EchoCounter.WouldBlock]); // select only calls what is ready, so nothing was asked too early
    }

    [Fact]
    public async Task Select_refuses_a_client_that_would_overflow_its_read_list_and_says_why_once()
    {
        var sink = new CollectingSink();
        using Logger logger = new Serilog.LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();
        EchoServerOptions options = EngineCases.OptionsFor(EngineCases.Get("select"), o => o with { Logger = logger });
        await using var server = new IoModels.Select.SelectEchoServer(options, maxSocketsPerList: 3); // the listener and two connections
        server.Start();
        using TestClient first = await TestClient.ConnectAsync(server.LocalEndPoint);
        using TestClient second = await TestClient.ConnectAsync(server.LocalEndPoint);
        await first.AssertEchoAsync("first"u8.ToArray());
        await second.AssertEchoAsync("second"u8.ToArray());

        using TestClient third = await TestClient.ConnectAsync(server.LocalEndPoint);
        using TestClient fourth = await TestClient.ConnectAsync(server.LocalEndPoint);
        Assert.True(await third.ReceiveEndAsync(), "the client beyond the list bound is closed, not served");
        Assert.True(await fourth.ReceiveEndAsync(), "and so is the next");
        Assert.Equal(2, server.Statistics[EchoCounter.ConnectionsRejected]);
        Assert.Single(sink.Messages, m => m.Contains("65,536 sockets per list", StringComparison.Ordinal));
        await first.AssertEchoAsync("still served"u8.ToArray());

        await server.StopAsync().WithTimeout(TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.Statistics[EchoCounter.Threads]);
        Assert.Equal(0, server.Statistics[EchoCounter.ConnectionsActive]);
    }

    private sealed class CollectingSink : ILogEventSink
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages { get { lock (_messages) { return [.. _messages]; } } }

        public void Emit(LogEvent logEvent)
        {
            ArgumentNullException.ThrowIfNull(logEvent);
            lock (_messages)
            {
                _messages.Add(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
