using System.Diagnostics;
using System.Net.Sockets;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// Ping-pong load for the demos that read an engine's counters per message: each client is a thread of its
/// own with a blocking socket, sending a message and reading its whole echo before the next. Blocking
/// clients on their own threads put nothing on the thread pool, so the pool's work items during the run
/// are the server's (what <c>async-is-readiness</c> counts as thread hops).
/// </summary>
internal static class DemoLoad
{
    /// <summary>How long one client call may block before the run counts as stuck: 10 s, far beyond a loopback echo.</summary>
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(10);

    /// <summary>What one run measured: the server's counters and the pool's work items over the timed messages only.</summary>
    internal sealed record Run(long Messages, StatisticsSnapshot Before, StatisticsSnapshot After, long PoolWorkItems, TimeSpan Elapsed)
    {
        /// <summary>How much <paramref name="counter"/> grew per message echoed.</summary>
        public double PerMessage(EchoCounter counter) => (double)(After[counter] - Before[counter]) / Messages;

        /// <summary>How much <paramref name="counter"/> grew per wait (select, epoll_wait, io_uring_enter) the server made.</summary>
        public double PerWait(EchoCounter counter)
        {
            long waits = After[EchoCounter.Waits] - Before[EchoCounter.Waits];
            return waits == 0 ? 0 : (double)(After[counter] - Before[counter]) / waits;
        }

        public double PoolWorkItemsPerMessage => (double)PoolWorkItems / Messages;
    }

    /// <summary>
    /// Says <paramref name="plan"/>, then runs the same ping-pong (<paramref name="clients"/> x
    /// <paramref name="messages"/> of <paramref name="size"/> bytes) through each of <paramref name="models"/>
    /// in turn, recorded per message as <c>MODEL_NAME_per_message</c> for each named counter, plus
    /// <c>MODEL_bytes_in_per_message</c>, <c>MODEL_pool_items_per_message</c> and
    /// <c>MODEL_requests_per_wait</c>; <paramref name="measured"/> gives the line said for each model once it
    /// has run. The figures start with <c>clients</c> and <c>messages</c> (in all).
    /// </summary>
    public static async Task<Dictionary<string, double>> CompareAsync(DemoContext context, IEnumerable<ModelInfo> models, int clients, int messages,
        int size, string plan, IReadOnlyList<(string Name, EchoCounter Counter)> counters,
        Func<string, Dictionary<string, double>, string> measured, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Say(plan);
        var numbers = new Dictionary<string, double> { ["clients"] = clients, ["messages"] = (double)clients * messages };
        foreach (ModelInfo model in models)
        {
            Run run = await MeasureAsync(model, null, clients, messages, size, cancellationToken);
            foreach ((string name, EchoCounter counter) in counters.Append(("bytes_in", EchoCounter.BytesIn)))
            {
                numbers[$"{model.Name}_{name}_per_message"] = run.PerMessage(counter);
            }

            numbers[$"{model.Name}_pool_items_per_message"] = run.PoolWorkItemsPerMessage;
            numbers[$"{model.Name}_requests_per_wait"] = run.PerWait(EchoCounter.Submissions);
            context.Say(measured(model.Name, numbers));
        }

        return numbers;
    }

    /// <summary>The check every counter demo rests on: each model counted exactly the bytes of the messages sent.</summary>
    public static DemoCheck AllCounted(IReadOnlyDictionary<string, double> numbers, IEnumerable<string> models, int size, bool zh) =>
        new(models.All(m => numbers[$"{m}_bytes_in_per_message"] == size), zh
            ? "计数器里收到的字节数与发出的消息对不上"
            : "the counters' bytes received do not match the messages sent");

    /// <summary>
    /// Starts <paramref name="model"/>, connects <paramref name="clients"/> clients (each echoed once, untimed),
    /// then has every client echo <paramref name="messages"/> messages of <paramref name="size"/> bytes at once.
    /// </summary>
    public static async Task<Run> MeasureAsync(ModelInfo model, Func<EchoServerOptions, EchoServerOptions>? configure,
        int clients, int messages, int size, CancellationToken cancellationToken)
    {
        await using IEchoServer server = StartServer(model, configure);
        var sockets = new List<Socket>(clients);
        try
        {
            for (int i = 0; i < clients; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
                {
                    NoDelay = true,
                    ReceiveTimeout = (int)CallLimit.TotalMilliseconds,
                    SendTimeout = (int)CallLimit.TotalMilliseconds,
                };
                sockets.Add(socket);
                socket.Connect(server.LocalEndPoint);
            }

            await OnThreadsAsync(sockets, 1, size, cancellationToken); // every client admitted and served once before the clock starts
            StatisticsSnapshot before = await SettledAsync(server, cancellationToken);
            long poolBefore = ThreadPool.CompletedWorkItemCount;
            var clock = Stopwatch.StartNew();
            await OnThreadsAsync(sockets, messages, size, cancellationToken);
            clock.Stop();
            long poolItems = ThreadPool.CompletedWorkItemCount - poolBefore;
            StatisticsSnapshot after = await SettledAsync(server, cancellationToken);
            return new Run((long)clients * messages, before, after, poolItems, clock.Elapsed);
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// The server's counters once it is back in its wait. An echo reaches the client while the loop may still
    /// be finishing its turn (select's and signal's sweeps go on after the busy socket; epoll publishes its
    /// counts once per wait), so a snapshot taken at once can split a turn across two measurements. Settled:
    /// the same two snapshots 5 ms apart (the longest turn in these demos, 5,000 sockets, takes a few ms), or
    /// whatever is there after a second.
    /// </summary>
    public static async Task<StatisticsSnapshot> SettledAsync(IEchoServer server, CancellationToken cancellationToken)
    {
        StatisticsSnapshot last = server.Statistics.Snapshot();
        for (int i = 0; i < 200; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
            StatisticsSnapshot now = server.Statistics.Snapshot();
            if (now[EchoCounter.Waits] == last[EchoCounter.Waits] && now[EchoCounter.SocketsScanned] == last[EchoCounter.SocketsScanned]
                && now[EchoCounter.ReceiveCalls] == last[EchoCounter.ReceiveCalls])
            {
                return now;
            }

            last = now;
        }

        return last;
    }

    /// <summary>Each socket on a thread of its own echoes <paramref name="messages"/> messages; returns when all have.</summary>
    private static async Task OnThreadsAsync(List<Socket> sockets, int messages, int size, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource[sockets.Count];
        var threads = new Thread[sockets.Count];
        for (int i = 0; i < sockets.Count; i++)
        {
            Socket socket = sockets[i];
            TaskCompletionSource finished = done[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            threads[i] = new Thread(() =>
            {
                try
                {
                    PingPong(socket, messages, size);
                    finished.SetResult();
                }
                catch (Exception e) when (e is SocketException or CliException)
                {
                    finished.SetException(e); // a stuck or wrong echo: the run fails with it
                }
            })
            { IsBackground = true, Name = "demo client" };
            threads[i].Start();
        }

        try
        {
            await Task.WhenAll(done.Select(d => d.Task)).WaitAsync(CallLimit * 2, cancellationToken);
        }
        finally
        {
            foreach (Thread thread in threads)
            {
                thread.Join(CallLimit); // each call is bounded by the socket timeouts, so each thread ends within one
            }
        }
    }

    private static void PingPong(Socket socket, int messages, int size)
    {
        byte[] message = new byte[size];
        for (int i = 0; i < size; i++)
        {
            message[i] = (byte)('a' + (i % 26));
        }

        byte[] expected = (byte[])message.Clone();
        AsciiUpper.ToUpperInPlace(expected);
        byte[] echo = new byte[size];
        for (int m = 0; m < messages; m++)
        {
            for (int sent = 0; sent < size;)
            {
                sent += socket.Send(message, sent, size - sent, SocketFlags.None);
            }

            for (int received = 0; received < size;)
            {
                int n = socket.Receive(echo, received, size - received, SocketFlags.None);
                if (n == 0)
                {
                    throw new CliException(ExitCode.ServerClosed, $"the demo server closed a connection after {received} of {size} echoed bytes");
                }

                received += n;
            }

            if (!echo.AsSpan().SequenceEqual(expected))
            {
                throw new CliException(ExitCode.Failure, "the demo server echoed something other than the uppercase of what was sent");
            }
        }
    }
}
