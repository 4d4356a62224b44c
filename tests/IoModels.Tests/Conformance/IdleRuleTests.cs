using System.Net.Sockets;
using IoModels.Tests.Support;

namespace IoModels.Tests.Conformance;

/// <summary>
/// One idle rule, the same outcome in every engine: idle means no byte moved either way for the idle
/// timeout. A silent client is closed with FIN; a slow but reading client is never idle; a client that
/// stopped reading with echoes pending is reset.
/// </summary>
public sealed class IdleRuleTests
{
    private static readonly TimeSpan s_idle = TimeSpan.FromSeconds(1);

    public static TheoryData<string> Engines => EngineCases.Names;

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_silent_client_is_closed_with_FIN(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { IdleTimeout = s_idle });
        using TestClient client = await server.ConnectAsync();
        await client.AssertEchoAsync("then silence"u8.ToArray());

        byte[] buffer = new byte[16];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        Assert.Equal(0, await client.Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)); // FIN: a reset would throw
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsTimedOut] == 1, "the server counts one idle close");
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_slow_reader_is_never_idle(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { IdleTimeout = s_idle * 2 });
        using TestClient client = await server.ConnectAsync();
        client.Socket.ReceiveBufferSize = 16 * 1024; // the echo waits on the server's side, in its send queue, while we read slowly
        byte[] payload = Reference.RandomBytes(512 * 1024, seed: 11);
        Task send = client.SendAsync(payload);

        // At most 320 KiB/s: about 3 s for the whole echo, more than the 2 s idle timeout, and never a
        // pause near it. Most of it waits in the server's send queue, where only the kernel sees it
        // move. A thread of its own with blocking reads: a reader that waits for a starved thread pool
        // (the suite runs many tests at once) could truly stop reading for seconds.
        byte[] echo = new byte[payload.Length];
        string? failure = null;
        var reader = new Thread(() =>
        {
            client.Socket.ReceiveTimeout = 30_000;
            try
            {
                for (int received = 0; received < echo.Length;)
                {
                    int n = client.Socket.Receive(echo, received, Math.Min(32 * 1024, echo.Length - received), SocketFlags.None);
                    if (n == 0)
                    {
                        failure = $"the server closed a reading client after {received} of {echo.Length} bytes";
                        return;
                    }

                    received += n;
                    Thread.Sleep(100 * n / (32 * 1024)); // pacing the reader at 320 KiB/s, not synchronisation
                }
            }
            catch (SocketException exception)
            {
                failure = $"the server ended a reading client ({exception.SocketErrorCode})";
            }
        }) { IsBackground = true, Name = "slow reader" };
        reader.Start();
        await Task.Run(() => reader.Join(TimeSpan.FromSeconds(60))).WithTimeout(TimeSpan.FromSeconds(70));
        Assert.False(reader.IsAlive, "the slow reader did not finish within 60 s");
        Assert.True(failure is null, $"{failure}: {string.Join(", ", server.Statistics.Snapshot().NonZero().Select(p => $"{p.Counter} {p.Value}"))}");

        await send.WithTimeout();
        Assert.Equal(Reference.Upper(payload), echo);
        Assert.Equal(0, server.Statistics[EchoCounter.ConnectionsTimedOut]);
    }

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_client_that_stops_reading_with_echoes_pending_is_reset(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine), o => o with { IdleTimeout = s_idle });
        using TestClient client = await server.ConnectAsync();
        client.Socket.ReceiveBufferSize = 16 * 1024;
        using var sending = new CancellationTokenSource();
        byte[] chunk = new byte[64 * 1024];
        Task flood = Task.Run(async () =>
        {
            try
            {
                while (!sending.IsCancellationRequested)
                {
                    await client.Socket.SendAsync(chunk, SocketFlags.None, sending.Token);
                }
            }
            catch (OperationCanceledException)
            {
                // Expected: the flood ends when the test has seen echoes pile up.
            }
        });

        // Stop sending once echoes are stuck on the server's side (it read more than it can hold), so
        // that the reset is ours to read below and not consumed by a send.
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesIn] > 2 * server.Options.OutputBufferLimit, "echoes are pending on the server");
        await sending.CancelAsync();
        await flood.WithTimeout();
        await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.ConnectionsTimedOut] == 1, "the server closes the stalled client as idle");

        // Whatever echo reached our buffer is readable; then the reset, not an orderly end.
        SocketError? ended = null;
        byte[] buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            while (await client.Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException exception)
        {
            ended = exception.SocketErrorCode;
        }

        Assert.Equal(SocketError.ConnectionReset, ended);
    }
}
