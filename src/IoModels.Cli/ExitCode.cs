namespace IoModels.Cli;

/// <summary>Every exit code <c>iomodels</c> returns, in one place.</summary>
public enum ExitCode
{
    /// <summary>Done as asked.</summary>
    Success = 0,
    /// <summary>Something failed that is not the user's input (see the error line).</summary>
    Failure = 1,
    /// <summary>Bad input: an unknown option or model, a number out of range, an unparsable value.</summary>
    UsageError = 2,
    /// <summary>The model exists but this OS cannot run it.</summary>
    ModelUnavailable = 3,
    /// <summary>The address to listen on is taken or not on this machine.</summary>
    CannotListen = 4,
    /// <summary>The server could not be reached.</summary>
    Unreachable = 5,
    /// <summary>
    /// No proper echo: the server closed the connection before the whole echo arrived, the echo made no
    /// progress for the client's <c>--timeout</c>, or the reply was not the uppercase of what was sent.
    /// </summary>
    ServerClosed = 6,
    /// <summary>bench: a server it started exited or was killed before bench stopped it (the error line says how, and its last lines).</summary>
    ServerDied = 7,
    /// <summary>Stopped by Ctrl+C or SIGTERM before finishing (128 + SIGINT, as shells report it).</summary>
    Interrupted = 130,
}
