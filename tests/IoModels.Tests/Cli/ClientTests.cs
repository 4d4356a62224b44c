using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using IoModels.Cli;
using IoModels.Cli.Commands;
using IoModels.Tests.Conformance;
using IoModels.Tests.Load;
using IoModels.Tests.Support;

namespace IoModels.Tests.Cli;

/// <summary>
/// <c>iomodels client</c>: a line of any length streams through every engine and comes back whole, and
/// a reply that is not the uppercase echo is reported (exit 6) unless <c>--raw</c> asks for any reply.
/// </summary>
public sealed class ClientTests
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(10);

    public static TheoryData<string> Engines => EngineCases.Names;

    [SkippableTheory, MemberData(nameof(Engines))]
    public async Task A_10_MiB_line_comes_back_whole_from_every_engine(string engine)
    {
        await using var server = RunningServer.Start(EngineCases.Get(engine));
        // Longer than the server's output buffer and every socket buffer between: sending it all before
        // reading deadlocks. A short line after it checks that the client is still in step.
        byte[] line = PrintableLine(10 * 1024 * 1024, seed: 14);
        byte[] input = [.. line, (byte)'\n', .. "tail\n"u8];
        byte[] expected = [.. Reference.Upper(line), (byte)'\n', .. "TAIL\n"u8];

        (int exitCode, string output) = await RunClientAsync(server.EndPoint.Port, input);

        Assert.Equal(0, exitCode);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(expected)), Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(output))));
    }

    [Fact]
    public async Task A_message_far_longer_than_the_send_window_comes_back_whole()
    {
        await using var server = RunningServer.Start(EngineCases.Get("epoll"));
        string message = Encoding.ASCII.GetString(PrintableLine(4 * 1024 * 1024, seed: 9)); // one piece from the caller, 16 windows
        var output = new StringWriter();
        using var deadline = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeout);
        var settings = new ClientSettings { Port = server.EndPoint.Port, Messages = [message, "x"], Timeout = ClientTimeout };

        int exitCode = await ClientCommand.RunAsync(settings, Stream.Null, output, interactive: false, deadline.Token).WithTimeout();

        Assert.Equal(0, exitCode);
        byte[] expected = [.. Reference.Upper(Encoding.ASCII.GetBytes(message)), .. "\nX\n"u8];
        Assert.Equal(Convert.ToHexString(SHA256.HashData(expected)), Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(output.ToString()))));
    }

    [Fact]
    public async Task A_reply_wrong_deep_into_a_long_line_is_printed_whole_and_reported_where_it_differs()
    {
        const int length = 1024 * 1024;
        await using var server = new FaultyEchoServer(corruptEvery: length); // flips a bit of the line's last byte only
        byte[] line = PrintableLine(length, seed: 6);
        byte[] reply = Reference.Upper(line);
        reply[^1] ^= 0x01;

        var output = new StringWriter();
        CliException failure = await Assert.ThrowsAsync<CliException>(() => RunClientAsync(server.EndPoint.Port, [.. line, (byte)'\n'], output));

        Assert.Equal(ExitCode.ServerClosed, failure.ExitCode);
        Assert.StartsWith($"the reply is not the uppercase echo of what was sent: byte {length - 1} is ", failure.Message, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexString(SHA256.HashData([.. reply, (byte)'\n'])), Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(output.ToString()))));
    }

    public static TheoryData<bool, string, string> WrongServers => new()
    {
        { true, "HDLMO", "byte 1 is 'D' (0x44), not 'E' (0x45)" },   // flips a bit of every second byte
        { false, "hello", "byte 0 is 'h' (0x68), not 'H' (0x48)" },  // echoes but forgets to uppercase
    };

    [Theory, MemberData(nameof(WrongServers))]
    public async Task A_server_that_does_not_uppercase_gets_its_reply_shown_and_exit_6(bool corrupts, string reply, string difference)
    {
        await using FaultyEchoServer server = corrupts ? new FaultyEchoServer(corruptEvery: 2) : new FaultyEchoServer(uppercase: false);
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync("hello\n", "client", "--port", Port(server));

        Assert.Equal(6, exitCode);
        Assert.Equal(reply + "\n", stdout.ReplaceLineEndings("\n"));
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got: {stderr}");
        Assert.Equal($"iomodels: the reply is not the uppercase echo of what was sent: {difference} (--raw prints any reply without comparing)", lines[0]);
    }

    [Fact]
    public async Task Raw_prints_any_reply_as_it_is_and_exits_0()
    {
        await using var server = new FaultyEchoServer(corruptEvery: 2);
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync("hello\nworld\n", "client", "--raw", "--port", Port(server));

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("HDLMO\nVOSLE\n", stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task The_timeout_counts_only_while_an_echo_is_owed_not_while_stdin_is_quiet()
    {
        await using var server = RunningServer.Start(EngineCases.Get("async"));
        var output = new StringWriter();
        var timeout = TimeSpan.FromMilliseconds(200);
        // Half a line, then stdin stays quiet for three timeouts once its echo is on its way back, then the rest.
        await using var input = new PausingStream("abc"u8.ToArray(), "def\n"u8.ToArray(),
            resume: async () =>
            {
                await TaskTimeoutExtensions.Eventually(() => server.Statistics[EchoCounter.BytesOut] == 3, "the first half is echoed");
                await Task.Delay(3 * timeout); // the time that passes is what is tested, not a wait for an event
            });

        (int exitCode, string text) = await RunClientAsync(server.EndPoint.Port, input, output, timeout);

        Assert.Equal(0, exitCode);
        Assert.Equal("ABCDEF\n", text);
    }

    [Fact]
    public async Task An_echo_that_makes_no_progress_for_the_timeout_is_reported_as_stalled()
    {
        using var mute = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        mute.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        mute.Listen();
        Task<Socket> accepting = mute.AcceptAsync();

        CliException failure = await Assert.ThrowsAsync<CliException>(() =>
            RunClientAsync(((IPEndPoint)mute.LocalEndPoint!).Port, "hello\n"u8.ToArray(), new StringWriter(), TimeSpan.FromMilliseconds(300)));

        using Socket accepted = await accepting.WithTimeout(); // accepted and never answered
        Assert.Equal(ExitCode.ServerClosed, failure.ExitCode);
        Assert.Equal("the echo stalled: nothing moved for 300ms (0 of 5 bytes sent so far came back)", failure.Message);
    }

    /// <summary>Runs the client's worker on <paramref name="input"/> as piped stdin; returns its exit code and stdout.</summary>
    private static Task<(int ExitCode, string Output)> RunClientAsync(int port, byte[] input) =>
        RunClientAsync(port, new MemoryStream(input), new StringWriter(), ClientTimeout);

    private static Task<(int ExitCode, string Output)> RunClientAsync(int port, byte[] input, StringWriter output, TimeSpan? timeout = null) =>
        RunClientAsync(port, new MemoryStream(input), output, timeout ?? ClientTimeout);

    private static async Task<(int ExitCode, string Output)> RunClientAsync(int port, Stream input, StringWriter output, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeout);
        var settings = new ClientSettings { Port = port, Timeout = timeout };
        int exitCode = await ClientCommand.RunAsync(settings, input, output, interactive: false, deadline.Token).WithTimeout();
        return (exitCode, output.ToString());
    }

    /// <summary>Printable ASCII with every lowercase letter in it, and no line end.</summary>
    private static byte[] PrintableLine(int length, int seed)
    {
        byte[] line = new byte[length];
        for (int i = 0; i < line.Length; i++)
        {
            line[i] = (byte)(' ' + Reference.StreamByte(i, seed) % 95);
        }

        return line;
    }

    private static string Port(FaultyEchoServer server) => server.EndPoint.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>A stdin that hands over <c>first</c>, waits for <c>resume</c>, then hands over <c>second</c>, then ends.</summary>
    private sealed class PausingStream(byte[] first, byte[] second, Func<Task> resume) : Stream
    {
        private int _reads;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            switch (_reads++)
            {
                case 0:
                    first.CopyTo(buffer);
                    return first.Length;
                case 1:
                    await resume().WithTimeout();
                    second.CopyTo(buffer);
                    return second.Length;
                default:
                    return 0;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
