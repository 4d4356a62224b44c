using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Sinks.SystemConsole.Themes;

namespace IoModels.Cli;

/// <summary>Serilog, set up once: everything to stderr so stdout carries only command output.</summary>
internal static class Logging
{
    private const string OutputTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>Raised or lowered by <c>--log-level</c>.</summary>
    public static LoggingLevelSwitch LevelSwitch { get; } = new(LogEventLevel.Information);

    public static Logger Create() => new LoggerConfiguration()
        .MinimumLevel.ControlledBy(LevelSwitch)
        .WriteTo.Console(
            outputTemplate: OutputTemplate,
            standardErrorFromLevel: LogEventLevel.Verbose,
            theme: Console.IsErrorRedirected ? ConsoleTheme.None : AnsiConsoleTheme.Code,
            formatProvider: System.Globalization.CultureInfo.InvariantCulture)
        .CreateLogger();
}
