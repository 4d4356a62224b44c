using System.Text.RegularExpressions;

namespace IoModels.Cli.Commands;

/// <summary>
/// The library names a setting by its property (<c>OutputBufferLimit must be at least BufferSize.</c>);
/// the user typed a flag. This turns a library <see cref="ArgumentException"/> into the line a command
/// prints, each property name replaced by the flag that sets it (<c>--output-buffer must be at least
/// --buffer-size</c>).
/// </summary>
internal static partial class FlagMessages
{
    /// <summary><see cref="EchoServerOptions"/> properties and the serve flags that set them.</summary>
    public static IReadOnlyDictionary<string, string> Serve { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["EndPoint.Port"] = "--port",
        [nameof(EchoServerOptions.Backlog)] = "--backlog",
        [nameof(EchoServerOptions.BufferSize)] = "--buffer-size",
        [nameof(EchoServerOptions.OutputBufferLimit)] = "--output-buffer",
        [nameof(EchoServerOptions.MaxConnections)] = "--max-connections",
        [nameof(EchoServerOptions.IdleTimeout)] = "--idle-timeout",
        [nameof(EchoServerOptions.DrainTimeout)] = "--drain-timeout",
    }.Concat(EngineOption.All.Select(o => KeyValuePair.Create(o.Name, ModelFlags.FlagName(o)))).ToDictionary(StringComparer.Ordinal);

    /// <summary><see cref="Load.LoadOptions"/> properties and the bench flags that set them.</summary>
    public static IReadOnlyDictionary<string, string> Bench { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(Load.LoadOptions.Connections)] = "--connections",
        [nameof(Load.LoadOptions.MessageSize)] = "--size",
        [nameof(Load.LoadOptions.Depth)] = "--depth",
        [nameof(Load.LoadOptions.Warmup)] = "--warmup",
        [nameof(Load.LoadOptions.Duration)] = "--duration",
        [nameof(Load.LoadOptions.Rate)] = "--rate",
        [nameof(Load.LoadOptions.MessagesPerConnection)] = "--scale",
        [nameof(Load.LoadOptions.Threads)] = "--load-threads",
        [nameof(Load.LoadOptions.Generator)] = "--generator",
    };

    /// <summary>The exception's message without the runtime's " (Parameter 'x')" and final stop, in flags.</summary>
    public static string InFlags(ArgumentException exception, IReadOnlyDictionary<string, string> flags)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string message = exception.Message.Split(" (Parameter", 2)[0].TrimEnd('.');
        return PropertyName().Replace(message, m => flags.TryGetValue(m.Value, out string? flag) ? flag : m.Value);
    }

    /// <summary>A PascalCase identifier, possibly dotted (<c>EndPoint.Port</c>).</summary>
    [GeneratedRegex(@"\b[A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)?\b")]
    private static partial Regex PropertyName();
}
