namespace IoModels.Cli;

/// <summary>A user-facing failure: its message is the one line printed, its code the exit code.</summary>
public sealed class CliException : Exception
{
    public CliException(ExitCode exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ExitCode ExitCode { get; } = ExitCode.Failure;
}
