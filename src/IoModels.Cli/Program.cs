using System.CommandLine;
using IoModels.Cli;
using IoModels.Cli.Commands;
using Serilog;

// Main only builds the commands, maps Ctrl+C/SIGTERM to cancellation and turns failures into one line.
Log.Logger = Logging.Create();
try
{
    return await RunAsync(args);
}
finally
{
    await Log.CloseAndFlushAsync();
}

static async Task<int> RunAsync(string[] args)
{
    RootCommand root = RootCommandFactory.Create();

    // Bare `iomodels` shows what it can do rather than complaining that no command was given.
    ParseResult parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
    if (parsed.Errors.Count > 0)
    {
        // One line: the most specific error (an unknown token says more than "command missing").
        System.CommandLine.Parsing.ParseError error =
            parsed.Errors.FirstOrDefault(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains(t, StringComparison.Ordinal))) ?? parsed.Errors[0];
        string command = parsed.CommandResult.Command == root ? "iomodels" : $"iomodels {parsed.CommandResult.Command.Name}";
        await Console.Error.WriteLineAsync($"iomodels: {error.Message} (see '{command} --help')");
        return (int)ExitCode.UsageError;
    }

    using var termination = new ProcessTermination();
    try
    {
        // Our own Ctrl+C handling (graceful first, forced second) replaces the library's.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }, termination.Token);
    }
    catch (CliException exception)
    {
        await Console.Error.WriteLineAsync($"iomodels: {exception.Message}");
        return (int)exception.ExitCode;
    }
    catch (OperationCanceledException) when (termination.Token.IsCancellationRequested)
    {
        return (int)ExitCode.Interrupted;
    }
    catch (Exception exception)
    {
        // Not a user error: one line, with the details in the log for whoever reports it.
        Log.Debug(exception, "Unhandled failure");
        await Console.Error.WriteLineAsync($"iomodels: unexpected failure: {exception.Message}");
        return (int)ExitCode.Failure;
    }
}
