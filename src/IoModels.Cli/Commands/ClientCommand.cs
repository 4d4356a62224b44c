using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using IoModels.Cli.Client;

namespace IoModels.Cli.Commands;

/// <summary>What <c>iomodels client</c> was asked to do.</summary>
internal sealed record ClientSettings
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = EchoServerOptions.DefaultPort;
    public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>How long connecting may take, and how long an echo that is owed may make no progress.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Print any reply as it is, without checking that it is the uppercase echo.</summary>
    public bool Raw { get; init; }
}

/// <summary>
/// <c>iomodels client</c>: the notes' interactive client (<c>&gt;&gt;: </c> prompt, empty lines skipped),
/// made correct: it sends a line while it reads the echo (<see cref="EchoExchange"/>), so a line of any
/// length comes back whole, it checks that the reply is the uppercase of what it sent, and it notices
/// when the server goes away.
/// </summary>
internal static class ClientCommand
{
    public const string Prompt = ">>: ";

    public static Command Create()
    {
        Option<string> host = CommonOptions.Host("server to connect to (name or address)");
        Option<int> port = CommonOptions.Port();
        var message = new Option<string[]>("--message")
        {
            Description = "send this text and print its echo, then exit (repeatable); without it, lines come from stdin",
            AllowMultipleArgumentsPerToken = false,
        };
        Option<TimeSpan?> timeout = CommonOptions.Duration("--timeout",
            "give up connecting after this long, or on an echo when nothing has moved for this long (a long line may take longer in all)", TimeSpan.FromSeconds(10));
        var raw = new Option<bool>("--raw")
        {
            Description = "print any reply as it is, without checking that it is the uppercase of what was sent",
        };
        var command = new Command("client", "Send lines to an echo server and print what comes back.") { host, port, message, timeout, raw };
        command.SetAction((result, cancellationToken) => RunAsync(
            new ClientSettings
            {
                Host = result.GetValue(host)!,
                Port = result.GetValue(port),
                Messages = result.GetValue(message) ?? [],
                Timeout = result.GetValue(timeout) ?? TimeSpan.FromSeconds(10),
                Raw = result.GetValue(raw),
            },
            Console.OpenStandardInput(), result.InvocationConfiguration.Output, interactive: !Console.IsInputRedirected, cancellationToken));
        return command;
    }

    /// <summary>
    /// Connects, then sends either the given messages or each non-empty line of <paramref name="input"/>,
    /// printing each whole echo on its own line. With <paramref name="interactive"/>, prompts first.
    /// A reply that is not the uppercase echo, a closed connection or a stalled echo ends it with a
    /// <see cref="CliException"/> (<see cref="ExitCode.ServerClosed"/>).
    /// </summary>
    public static async Task<int> RunAsync(ClientSettings settings, Stream input, TextWriter output, bool interactive, CancellationToken cancellationToken)
    {
        using Socket socket = await ConnectAsync(settings, cancellationToken);
        if (settings.Messages.Count > 0)
        {
            foreach (string text in settings.Messages)
            {
                ReadOnlyMemory<byte> message = Encoding.UTF8.GetBytes(text);
                await EchoExchange.RunAsync(socket, _ => ValueTask.FromResult(Take(ref message)), output, settings.Raw, settings.Timeout, cancellationToken);
            }

            return (int)ExitCode.Success;
        }

        var lines = new LineSource(input);
        while (true)
        {
            if (interactive)
            {
                await output.WriteAsync(Prompt);
                await output.FlushAsync(cancellationToken);
            }

            switch (await lines.NextLineAsync(cancellationToken))
            {
                case LineSource.LineStart.EndOfInput:
                    if (interactive)
                    {
                        await output.WriteLineAsync(); // leave the shell prompt on a line of its own
                    }

                    return (int)ExitCode.Success; // end of input (Ctrl+D, or the pipe ran dry)
                case LineSource.LineStart.Empty:
                    continue; // as in the notes: nothing to send
                case LineSource.LineStart.Text:
                    await EchoExchange.RunAsync(socket, lines.ReadAsync, output, settings.Raw, settings.Timeout, cancellationToken);
                    break;
            }
        }
    }

    /// <summary>The whole of <paramref name="rest"/> the first time, empty after: a message is one piece.</summary>
    private static ReadOnlyMemory<byte> Take(ref ReadOnlyMemory<byte> rest)
    {
        ReadOnlyMemory<byte> piece = rest;
        rest = ReadOnlyMemory<byte>.Empty;
        return piece;
    }

    private static async Task<Socket> ConnectAsync(ClientSettings settings, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(settings.Host, settings.Port, timeout.Token);
            return socket;
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            string why = exception switch
            {
                SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused (is 'iomodels serve' running on that port?)",
                SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => "no such host",
                SocketException socketException => socketException.Message,
                _ => $"no answer within {CommonOptions.FormatDuration(settings.Timeout)}",
            };
            throw new CliException(ExitCode.Unreachable, $"cannot connect to {settings.Host}:{settings.Port}: {why}");
        }
    }
}
