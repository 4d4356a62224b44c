using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

/// <summary>
/// The notes' scripts, copied faithfully into C#, fail in five classic ways; each is reproduced on loopback,
/// measured, and then the same load is put to this suite's engine (or, for the client's mistake, to a client
/// that reads the whole echo), which is measured not to fail. Each pitfall:
/// (a) accepted sockets left blocking in the non-blocking loop: one silent client stalls everyone;
/// (b) the select loop closes a socket that is still in this turn's write list, and dies;
/// (c) <c>wdata[sock] = data</c>: two reads before a write turn, and the first reply is lost;
/// (d) a client that calls recv(1024) once per send: a long echo is cut, its rest read as the next reply;
/// (e) listen(5): a crowd arriving while the server is busy waits for the kernel's SYN retry.
/// </summary>
internal sealed partial class PitfallsDemo : IDemoScenario
{
    /// <summary>The notes' backlog, listen(5).</summary>
    private const int NotesBacklog = 5;

    /// <summary>The long line of (d): four times the notes' recv(1024), so one call cannot hold its echo.</summary>
    private const int LongLineBytes = 4096;

    /// <summary>Each line of (c): exactly one recv(1024) of the notes' server.</summary>
    private const int LineBytes = 1024;

    public string Name => "pitfalls";

    public string Title(string language) => Text.Title(language == "zh");

    public IReadOnlyList<string> Models { get; } = ["nonblocking", "select"];

    public async Task<DemoResult> RunAsync(DemoContext context, CancellationToken cancellationToken)
    {
        ModelInfo nonblocking = RequireModel("nonblocking");
        ModelInfo select = RequireModel("select");
        bool zh = context.Chinese;
        TimeSpan hold = Hold(context);
        // How long a reply that should come is given before it counts as not coming: 1 s at every scale, since
        // a loaded machine can delay a correct engine's echo by hundreds of milliseconds and that must not read as a loss.
        TimeSpan patience = TimeSpan.FromSeconds(1);
        int crowd = Crowd(context);
        var n = new Dictionary<string, double> { ["hold_s"] = hold.TotalSeconds, ["crowd"] = crowd };

        context.Say(Text.SilentPlan(zh, hold));
        using (var notes = new NotesNonBlockingServer())
        {
            notes.Start();
            n["a_notes_b_wait_s"] = await SilentClientAsync(notes.EndPoint, hold, cancellationToken);
        }

        await using (IEchoServer engine = StartServer(nonblocking))
        {
            n["a_engine_b_wait_s"] = await SilentClientAsync(engine.LocalEndPoint, hold, cancellationToken);
        }

        context.Say(Text.SilentMeasured(zh, n["a_notes_b_wait_s"], n["a_engine_b_wait_s"]));

        context.Say(Text.LeaverPlan(zh));
        using (var notes = new NotesSelectServer(NotesBacklog))
        {
            (n["b_notes_loop_died"], n["b_notes_other_served"], string died) = await LeaverAsync(notes, notes.EndPoint, notes.Start, patience, cancellationToken);
            context.Say(Text.LeaverNotes(zh, died, n["b_notes_other_served"] == 1));
        }

        await using (IEchoServer engine = StartServer(select))
        {
            (_, n["b_engine_other_served"], _) = await LeaverAsync(null, engine.LocalEndPoint, () => { }, patience, cancellationToken);
            context.Say(Text.LeaverEngine(zh, n["b_engine_other_served"] == 1));
        }

        context.Say(Text.TwicePlan(zh, LineBytes));
        using (var notes = new NotesSelectServer(NotesBacklog))
        {
            (n["c_notes_first_echoed"], n["c_notes_second_echoed"], n["c_notes_bytes_back"]) = await TwiceAsync(notes.EndPoint, notes.Start, patience, cancellationToken);
        }

        await using (IEchoServer engine = StartServer(select))
        {
            (n["c_engine_first_echoed"], n["c_engine_second_echoed"], n["c_engine_bytes_back"]) = await TwiceAsync(engine.LocalEndPoint, () => { }, patience, cancellationToken);
        }

        context.Say(Text.TwiceMeasured(zh, n, 2 * LineBytes));

        context.Say(Text.ReadOncePlan(zh, LongLineBytes));
        await using (IEchoServer engine = StartServer(select))
        {
            (n["d_once_first_reply_bytes"], n["d_once_second_reply_is_its_echo"]) = await ReadOnceAsync(engine.LocalEndPoint, patience, cancellationToken);
            (n["d_whole_first_reply_bytes"], n["d_whole_second_reply_is_its_echo"]) = await ReadWholeAsync(engine.LocalEndPoint, cancellationToken);
        }

        context.Say(Text.ReadOnceMeasured(zh, n, LongLineBytes));

        int engineBacklog = new EchoServerOptions().Backlog;
        context.Say(Text.CrowdPlan(zh, crowd, hold, engineBacklog));
        using (var notes = new NotesSelectServer(NotesBacklog))
        {
            (n["e_listen5_in_hold"], n["e_listen5_rest_s"], n["e_listen5_still_waiting"]) =
                await CrowdAsync(notes.EndPoint, notes.Start, crowd, hold, Window(context), cancellationToken);
        }

        using (var notes = new NotesSelectServer(engineBacklog))
        {
            (n["e_big_backlog_in_hold"], _, _) = await CrowdAsync(notes.EndPoint, notes.Start, crowd, hold, Window(context), cancellationToken);
        }

        await using (IEchoServer engine = StartServer(select))
        {
            (n["e_engine_in_hold"], _, _) = await CrowdAsync(engine.LocalEndPoint, () => { }, crowd, hold, Window(context), cancellationToken);
        }

        n["engine_backlog"] = engineBacklog;
        n["e_window_s"] = Window(context).TotalSeconds;
        context.Say(Text.CrowdMeasured(zh, n, engineBacklog));
        return Judge(n, context.Language);
    }

    /// <summary>The silent client's and the busy server's spell: 2 s, a stall a class can see; 300 ms at least, far above a loopback round trip.</summary>
    private static TimeSpan Hold(DemoContext context) => context.Duration(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300));

    private static int Crowd(DemoContext context) => context.Count(100, 20);

    /// <summary>
    /// How long the crowd is watched once the server accepts: 7 s, enough for the SYNs the kernel resends 1 s
    /// and 3 s after the first where it doubles the wait, and for four more where it resends every second
    /// (net.ipv4.tcp_syn_linear_timeouts); 3 s at least.
    /// </summary>
    private static TimeSpan Window(DemoContext context) => context.Duration(TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(3));

    public string Question(DemoContext context) => Text.Question(context.Chinese, Hold(context), Crowd(context));

    public string Answer(IReadOnlyDictionary<string, double> n, string language) => Text.Answer(language == "zh", n);

    public IReadOnlyList<string> Verify(int processId, string language) =>
        [DemoVerify.AcceptQueue(language == "zh"), DemoVerify.ListenOverflows(language == "zh"), DemoVerify.NonBlockingFlag(processId, language == "zh")];

    public DemoResult Judge(IReadOnlyDictionary<string, double> n, string language = "en")
    {
        bool zh = language == "zh";
        double hold = n["hold_s"];
        double crowd = n["crowd"];
        return DemoResult.Judge(n,
            [
                new(n["a_notes_b_wait_s"] >= hold * 0.9, Text.NotesNotStalled(zh, n["a_notes_b_wait_s"], hold)),
                new(n["a_engine_b_wait_s"] < hold / 2, Text.EngineStalled(zh, "nonblocking", n["a_engine_b_wait_s"], hold)),
                new(n["b_notes_loop_died"] == 1 && n["b_notes_other_served"] == 0, Text.NotesSurvived(zh)),
                new(n["b_engine_other_served"] == 1, Text.EngineLostOther(zh)),
                new(n["c_notes_first_echoed"] == 0 && n["c_notes_bytes_back"] < 2 * LineBytes, Text.NotesKeptBoth(zh, n["c_notes_bytes_back"])),
                new(n["c_engine_first_echoed"] == 1 && n["c_engine_second_echoed"] == 1, Text.EngineLostLine(zh, n["c_engine_bytes_back"])),
                new(n["d_once_first_reply_bytes"] < LongLineBytes && n["d_once_second_reply_is_its_echo"] == 0, Text.OnceGotAll(zh, n["d_once_first_reply_bytes"])),
                new(n["d_whole_first_reply_bytes"] == LongLineBytes && n["d_whole_second_reply_is_its_echo"] == 1, Text.WholeMissed(zh, n["d_whole_first_reply_bytes"])),
                new(n["e_listen5_in_hold"] < crowd, Text.Listen5TookAll(zh, n["e_listen5_in_hold"], crowd)),
                new(n["e_big_backlog_in_hold"] == crowd && n["e_engine_in_hold"] == crowd,
                    Text.BigBacklogShort(zh, n["e_big_backlog_in_hold"], n["e_engine_in_hold"], crowd)),
            ],
            () => Text.Conclusion(zh, n, LongLineBytes));
    }

    /// <summary>(a) A connects and says nothing; B sends a line. Returns how long B waited for its echo (A leaves after <paramref name="hold"/>).</summary>
    private static async Task<double> SilentClientAsync(IPEndPoint endPoint, TimeSpan hold, CancellationToken cancellationToken)
    {
        using DemoClient a = await DemoClient.ConnectAsync(endPoint, cancellationToken);
        using DemoClient b = await DemoClient.ConnectAsync(endPoint, cancellationToken);
        var wait = Stopwatch.StartNew();
        await b.SendAsync("hello from b", cancellationToken);
        Task echo = b.ReceiveEchoAsync("hello from b", cancellationToken);
        await Task.WhenAny(echo, Task.Delay(hold, cancellationToken)); // A's silence: the scenario itself, ended early only by B's echo
        a.Leave();
        await echo;
        wait.Stop();
        b.Leave();
        return wait.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// (b) C and then a leaver connect; C sends a line, the leaver sends "bye" and leaves at once. All of it waits
    /// in the kernel before the loop starts, so the notes' loop sees the leaver's data and its end of stream on
    /// two turns, whatever this machine's timing. Returns whether the loop died (1/0), whether C's next line was
    /// echoed within <paramref name="patience"/> (1/0), and the type of the exception that ended the loop.
    /// </summary>
    private static async Task<(double Died, double OtherServed, string Death)> LeaverAsync(
        NotesServer? notes, IPEndPoint endPoint, Action start, TimeSpan patience, CancellationToken cancellationToken)
    {
        using DemoClient c = await DemoClient.ConnectAsync(endPoint, cancellationToken);
        await c.SendAsync("c is here", cancellationToken);
        using (DemoClient leaver = await DemoClient.ConnectAsync(endPoint, cancellationToken))
        {
            await leaver.SendAsync("bye", cancellationToken);
            leaver.Leave();
        }

        start();
        bool firstServed = await WithinAsync(t => c.ReceiveEchoAsync("c is here", t), patience, cancellationToken);
        Exception? death = null;
        if (notes is not null && await WithinAsync(t => notes.Ended.WaitAsync(t), patience, cancellationToken))
        {
            death = await notes.Ended;
        }

        bool served = firstServed && await WithinAsync(t => c.EchoAsync("c again", t), patience, cancellationToken);
        c.Leave();
        return (death is null ? 0 : 1, served ? 1 : 0, death?.GetType().Name ?? string.Empty);
    }

    /// <summary>True if <paramref name="step"/> finished within <paramref name="patience"/>; false if it was still waiting.</summary>
    private static async Task<bool> WithinAsync(Func<CancellationToken, Task> step, TimeSpan patience, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(patience);
        try
        {
            await step(wait.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // nothing within the patience: the measurement, not an error
        }
    }

    /// <summary>
    /// (c) Two lines of <see cref="LineBytes"/> ('a's, then 'b's) sent one after the other before the loop starts.
    /// Returns whether each one's echo came back (1/0) and the bytes that came back within <paramref name="patience"/>.
    /// </summary>
    private static async Task<(double First, double Second, double Bytes)> TwiceAsync(IPEndPoint endPoint, Action start, TimeSpan patience, CancellationToken cancellationToken)
    {
        string first = new('a', LineBytes);
        string second = new('b', LineBytes);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint, cancellationToken);
        await SendAllAsync(socket, first, cancellationToken);
        await SendAllAsync(socket, second, cancellationToken);
        start();
        byte[] back = await ReadUntilAsync(socket, 2 * LineBytes, patience, cancellationToken);
        string text = Encoding.ASCII.GetString(back);
        return (text.Contains(first.ToUpperInvariant(), StringComparison.Ordinal) ? 1 : 0,
            text.Contains(second.ToUpperInvariant(), StringComparison.Ordinal) ? 1 : 0,
            back.Length);
    }

    /// <summary>
    /// (d) The notes' client: send, then recv(1024) once, twice over: a long line, then "hi". Returns the first
    /// reply's length and whether the second reply is the echo of "hi" (1/0).
    /// </summary>
    private static async Task<(double FirstBytes, double SecondIsItsEcho)> ReadOnceAsync(IPEndPoint endPoint, TimeSpan patience, CancellationToken cancellationToken)
    {
        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await c.ConnectAsync(endPoint, cancellationToken);        // c.connect(('127.0.0.1',8099))
        await SendAllAsync(c, new string('x', LongLineBytes), cancellationToken); // c.send(msg.encode('utf-8'))
        byte[] first = await Recv1024Async(c, patience, cancellationToken); // data=c.recv(1024)
        await SendAllAsync(c, "hi", cancellationToken);
        byte[] second = await Recv1024Async(c, patience, cancellationToken);
        return (first.Length, Encoding.ASCII.GetString(second) == "HI" ? 1 : 0);
    }

    /// <summary>(d) The same two sends with a client that reads until the whole echo of each line is in.</summary>
    private static async Task<(double FirstBytes, double SecondIsItsEcho)> ReadWholeAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        using DemoClient c = await DemoClient.ConnectAsync(endPoint, cancellationToken);
        await c.EchoAsync(new string('x', LongLineBytes), cancellationToken); // throws unless all of it came back, uppercased
        await c.EchoAsync("hi", cancellationToken);
        c.Leave();
        return (LongLineBytes, 1);
    }

    /// <summary>
    /// (e) <paramref name="crowd"/> clients connect at once while nobody accepts (the loop has not started) for
    /// <paramref name="hold"/>; then the loop starts and the crowd is watched for at most <paramref name="window"/>.
    /// Returns how many connects completed within the hold, the seconds from the first accept until the last
    /// client connected, and how many had still not connected when the window closed (their connects are
    /// then cancelled).
    /// </summary>
    private static async Task<(double InHold, double RestSeconds, double StillWaiting)> CrowdAsync(
        IPEndPoint endPoint, Action start, int crowd, TimeSpan hold, TimeSpan window, CancellationToken cancellationToken)
    {
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connects = new Task<DemoClient>[crowd];
        for (int i = 0; i < crowd; i++)
        {
            connects[i] = DemoClient.ConnectAsync(endPoint, giveUp.Token);
        }

        try
        {
            await Task.Delay(hold, cancellationToken); // the server's busy spell: the scenario itself, not a wait for something
            int inHold = connects.Count(t => t.IsCompletedSuccessfully);
            var clock = Stopwatch.StartNew();
            start();
            Task all = Task.WhenAll(connects);
            await Task.WhenAny(all, Task.Delay(window, cancellationToken));
            double rest = clock.Elapsed.TotalSeconds;
            int stillWaiting = connects.Count(t => !t.IsCompleted);
            await giveUp.CancelAsync();
            try
            {
                await all;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Expected: the connects still waiting for a SYN retry when the window closed were cancelled.
            }

            return (inHold, rest, stillWaiting);
        }
        finally
        {
            foreach (Task<DemoClient> connect in connects)
            {
                if (connect.IsCompletedSuccessfully)
                {
                    connect.Result.Dispose();
                }
            }
        }
    }

    private static async Task SendAllAsync(Socket socket, string text, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> data = Encoding.ASCII.GetBytes(text);
        while (!data.IsEmpty)
        {
            data = data[await socket.SendAsync(data, SocketFlags.None, cancellationToken)..];
        }
    }

    /// <summary>One receive of at most 1,024 bytes, as the notes' client makes; waits at most <paramref name="patience"/> for it.</summary>
    private static async Task<byte[]> Recv1024Async(Socket socket, TimeSpan patience, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(patience);
        byte[] buffer = new byte[1024];
        try
        {
            int received = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
            return buffer[..received];
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return []; // nothing came within the patience: an empty reply is what the measurement records
        }
    }

    /// <summary>Reads until <paramref name="count"/> bytes came, the peer closed, or nothing more came for <paramref name="patience"/>.</summary>
    private static async Task<byte[]> ReadUntilAsync(Socket socket, int count, TimeSpan patience, CancellationToken cancellationToken)
    {
        var received = new List<byte>(count);
        while (received.Count < count)
        {
            byte[] piece = await Recv1024Async(socket, patience, cancellationToken);
            if (piece.Length == 0)
            {
                break;
            }

            received.AddRange(piece);
        }

        return [.. received];
    }
}
