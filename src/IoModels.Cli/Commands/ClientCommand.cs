using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IoModels.Cli.Commands;

/// <summary>What <c>iomodels client</c> was asked to do.</summary>
internal sealed record ClientSettings
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = EchoServerOptions.DefaultPort;
    public IReadOnlyList<string> Messages { get; init; } = [];
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// <c>iomodels client</c>: the notes' interactive client (<c>&gt;&gt;: </c> prompt, empty lines skipped),
/// made correct: it reads until the whole echo of what it sent has arrived rather than making one
/// receive call, and it notices when the server goes away.
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
        Option<TimeSpan?> timeout = CommonOptions.Duration("--timeout", "give up connecting or waiting for an echo after this long", TimeSpan.FromSeconds(10));
        var command = new Command("client", "Send lines to an echo server and print what comes back.") { host, port, message, timeout };
        command.SetAction((result, cancellationToken) => RunAsync(
            new ClientSettings
            {
                Host = result.GetValue(host)!,
                Port = result.GetValue(port),
                Messages = result.GetValue(message) ?? [],
                Timeout = result.GetValue(timeout) ?? TimeSpan.FromSeconds(10),
            },
            Console.In, result.InvocationConfiguration.Output, interactive: !Console.IsInputRedirected, cancellationToken));
        return command;
    }

    /// <summary>
    /// Connects, then sends either the given messages or each non-empty line of <paramref name="input"/>,
    /// printing each whole echo on its own line. With <paramref name="interactive"/>, prompts first.
    /// </summary>
    public static async Task<int> RunAsync(ClientSettings settings, TextReader input, TextWriter output, bool interactive, CancellationToken cancellationToken)
    {
        using Socket socket = await ConnectAsync(settings, cancellationToken);
        if (settings.Messages.Count > 0)
        {
            foreach (string text in settings.Messages)
            {
                await output.WriteLineAsync(await EchoAsync(socket, text, settings.Timeout, cancellationToken));
            }

            return (int)ExitCode.Success;
        }

        while (true)
        {
            if (interactive)
            {
                await output.WriteAsync(Prompt);
                await output.FlushAsync(cancellationToken);
            }

            // ReadLine cannot be cancelled; waiting on it this way lets Ctrl+C end the command anyway.
            string? line = await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(cancellationToken);
            if (line is null)
            {
                if (interactive)
                {
                    await output.WriteLineAsync(); // leave the shell prompt on a line of its own
                }

                return (int)ExitCode.Success; // end of input (Ctrl+D, or the pipe ran dry)
            }

            if (line.Length == 0)
            {
                continue; // as in the notes: nothing to send
            }

            await output.WriteLineAsync(await EchoAsync(socket, line, settings.Timeout, cancellationToken));
            await output.FlushAsync(cancellationToken);
        }
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

    /// <summary>Sends <paramref name="text"/> as UTF-8 and reads back exactly as many bytes: the whole echo.</summary>
    private static async Task<string> EchoAsync(Socket socket, string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        byte[] request = Encoding.UTF8.GetBytes(text);
        byte[] reply = new byte[request.Length];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        int received = 0;
        try
        {
            await socket.SendAsync(request, SocketFlags.None, deadline.Token);
            while (received < reply.Length)
            {
                int n = await socket.ReceiveAsync(reply.AsMemory(received), SocketFlags.None, deadline.Token);
                if (n == 0)
                {
                    throw new CliException(ExitCode.ServerClosed,
                        $"the server closed the connection after {received} of {reply.Length} echoed bytes");
                }

                received += n;
            }
        }
        catch (SocketException exception)
        {
            throw new CliException(ExitCode.ServerClosed, $"the connection to the server was lost: {exception.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCode.ServerClosed,
                $"no complete echo within {CommonOptions.FormatDuration(timeout)} ({received} of {reply.Length} bytes arrived)");
        }

        return Encoding.UTF8.GetString(reply);
    }
}
