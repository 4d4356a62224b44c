using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using IoModels.Load;

namespace IoModels.Cli.Bench;

/// <summary>Parsers for the options only <c>bench</c> has: lists of numbers, HOST:PORT, a rate, a format.</summary>
internal static class BenchOptions
{
    /// <summary>A comma-separated list of whole numbers in a range, e.g. <c>--connections 1,10,100</c>.</summary>
    public static Option<int[]> IntList(string name, string description, int[] defaultValue, int min, int max) => new(name)
    {
        Description = defaultValue.Length == 0 ? $"{description} [default: none]" : description, // the help adds a non-empty default itself
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = string.Join(',', result.Tokens.Select(t => t.Value));
            if (TryParseIntList(text, min, max, out int[] values))
            {
                return values;
            }

            result.AddError($"{name} must be a comma-separated list of whole numbers from {min} to {max}, not '{text}'");
            return defaultValue;
        },
    };

    public static bool TryParseIntList(string text, int min, int max, out int[] values)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min || values[i] > max)
            {
                return false;
            }
        }

        return parts.Length > 0;
    }

    public static Option<double?> Rate() => new("--rate")
    {
        Description = "open loop: send this many messages per second in all, on a fixed schedule, timing each from when it was due [default: closed loop]",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) && rate > 0 && rate <= 1e9)
            {
                return rate;
            }

            result.AddError($"--rate must be a positive number of messages per second, not '{text}'");
            return null;
        },
    };

    public static Option<LoadGeneratorKind> Generator() => new("--generator")
    {
        Description = "the load generator: epoll (dedicated threads, Linux), sockets (the runtime's async sockets), or auto (epoll on Linux)",
        DefaultValueFactory = _ => LoadGeneratorKind.Auto,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (Enum.TryParse(text, ignoreCase: true, out LoadGeneratorKind kind) && Enum.IsDefined(kind) && !int.TryParse(text, out _))
            {
                return kind;
            }

            result.AddError($"--generator must be one of auto, epoll, sockets, not '{text}'");
            return LoadGeneratorKind.Auto;
        },
    };

    public static Option<BenchFormat> Format() => new("--format")
    {
        Description = "table, markdown, csv or json",
        DefaultValueFactory = _ => BenchFormat.Table,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (Enum.TryParse(text, ignoreCase: true, out BenchFormat format) && Enum.IsDefined(format) && !int.TryParse(text, out _))
            {
                return format;
            }

            result.AddError($"--format must be one of table, markdown, csv, json, not '{text}'");
            return BenchFormat.Table;
        },
    };

    /// <summary><c>HOST:PORT</c> (or <c>[v6]:PORT</c>) as a <see cref="DnsEndPoint"/>; throws a usage error otherwise.</summary>
    public static DnsEndPoint ParseTarget(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535)
        {
            string host = text[..colon].Trim('[', ']');
            if (host.Length > 0)
            {
                return new DnsEndPoint(host, port);
            }
        }

        throw new CliException(ExitCode.UsageError, $"--target must be HOST:PORT, such as 127.0.0.1:9000, not '{text}'");
    }

    /// <summary>
    /// The servers named by <c>--model</c>: <c>all</c> (every model this OS can run, as it comes), or a
    /// comma-separated list of models, each optionally followed by serve options (<c>epoll,epoll
    /// --edge-triggered</c>); an unknown name or a bad option is a usage error, a model this OS lacks is
    /// <see cref="ExitCode.ModelUnavailable"/>. The same entry twice is measured once.
    /// </summary>
    public static IReadOnlyList<BenchServer> ParseServers(string text)
    {
        if (string.Equals(text.Trim(), "all", StringComparison.OrdinalIgnoreCase))
        {
            return [.. ModelRegistry.All.Where(m => m.IsSupported).Select(m => new BenchServer(m, []))];
        }

        var servers = new List<BenchServer>();
        foreach (string entry in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            BenchServer server = BenchServer.Parse(entry);
            if (!servers.Exists(s => s.Label == server.Label))
            {
                servers.Add(server);
            }
        }

        if (servers.Count == 0)
        {
            throw new CliException(ExitCode.UsageError, $"--model must name at least one model ({ModelRegistry.Names()}) or be 'all'");
        }

        return servers;
    }
}
