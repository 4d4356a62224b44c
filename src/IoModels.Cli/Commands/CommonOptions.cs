using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Serilog.Events;

namespace IoModels.Cli.Commands;

/// <summary>Options more than one command declares, and parsers that turn bad values into one clear line.</summary>
internal static class CommonOptions
{
    public static Option<string> Host(string description)
    {
        var option = new Option<string>("--host")
        {
            Description = description,
            DefaultValueFactory = _ => "127.0.0.1",
        };
        option.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--host must name a host or an IP address, not an empty string");
            }
        });
        return option;
    }

    public static Option<int> Port(int defaultPort = IoModels.EchoServerOptions.DefaultPort) =>
        Int("--port", "TCP port (0 lets the OS choose a free one)", defaultPort, 0, 65535);

    /// <summary>An integer option whose parse error names the option and its range instead of a .NET type.</summary>
    /// <remarks>The help shows the default itself (System.CommandLine adds "[default: N]" for a default value factory).</remarks>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = SingleToken(result);
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{name} must be a whole number from {min} to {max}, not '{text}'");
            return defaultValue;
        },
    };

    /// <summary>
    /// A duration option: <c>250ms</c>, <c>2s</c>, <c>1.5m</c>, or a bare number of seconds. Absent, its
    /// value is null and the caller applies <paramref name="defaultValue"/>: the help names the default
    /// as typed (<c>500ms</c>), where a default value factory would print it as 00:00:00.5000000.
    /// </summary>
    public static Option<TimeSpan?> Duration(string name, string description, TimeSpan? defaultValue, bool allowZero = false) => new(name)
    {
        Description = defaultValue is { } d ? $"{description} [default: {FormatDuration(d)}]" : description,
        CustomParser = result =>
        {
            string text = SingleToken(result);
            if (TryParseDuration(text, out TimeSpan value) && (value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero)))
            {
                return value;
            }

            result.AddError($"{name} must be a {(allowZero ? "non-negative" : "positive")} duration such as 500ms, 2s or 1m, not '{text}'");
            return defaultValue;
        },
    };

    /// <summary><c>--lang en|zh</c> of explain and demo; unset, the caller picks <see cref="Explain.ExplainTexts.DefaultLanguage"/>.</summary>
    public static Option<string?> Language() => new("--lang")
    {
        Description = "en or zh [default: zh when the UI culture is Chinese, else en]",
        CustomParser = result =>
        {
            string text = SingleToken(result);
            string normalized = text.ToLowerInvariant();
            if (Explain.ExplainTexts.Languages.Contains(normalized))
            {
                return normalized;
            }

            result.AddError($"--lang must be {string.Join(" or ", Explain.ExplainTexts.Languages)}, not '{text}'");
            return null;
        },
    };

    public static Option<LogEventLevel> LogLevel() => new("--log-level")
    {
        Description = "verbose, debug, information, warning or error",
        DefaultValueFactory = _ => LogEventLevel.Information,
        CustomParser = result =>
        {
            string text = SingleToken(result);
            if (Enum.TryParse(text, ignoreCase: true, out LogEventLevel level) && Enum.IsDefined(level) && !int.TryParse(text, out _))
            {
                return level;
            }

            result.AddError($"--log-level must be one of verbose, debug, information, warning, error, not '{text}'");
            return LogEventLevel.Information;
        },
    };

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 1.0),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1000.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60_000.0),
            _ => (text, 1000.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) ||
            double.IsNaN(amount) || amount < 0 || amount * scale > TimeSpan.FromDays(1).TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(amount * scale);
        return true;
    }

    public static string FormatDuration(TimeSpan value) =>
        value.TotalMilliseconds < 1000 ? $"{value.TotalMilliseconds:0.###}ms" : $"{value.TotalSeconds:0.###}s";

    /// <summary>An address to listen on: an IP literal, or <c>localhost</c>.</summary>
    public static IPAddress ParseListenAddress(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }

        throw new CliException(ExitCode.UsageError, $"--host must be an IP address to listen on (such as 127.0.0.1, ::1 or 0.0.0.0), not '{host}'");
    }

    private static string SingleToken(ArgumentResult result) =>
        result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
}
