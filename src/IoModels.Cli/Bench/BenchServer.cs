using System.CommandLine;

namespace IoModels.Cli.Bench;

/// <summary>
/// One server <c>iomodels bench</c> starts: a model and the <c>serve</c> options it runs with, written
/// in <c>--model</c> as they would follow <c>serve --model</c> (<c>epoll --edge-triggered</c>,
/// <c>async --inline-completions</c>), so variants of one model stand side by side in one table.
/// </summary>
internal sealed record BenchServer(ModelInfo Model, IReadOnlyList<string> ServeOptions)
{
    /// <summary>
    /// Options that are bench's to decide: it starts every child on loopback port 0, quiet, with its
    /// own connection limit and port file; a dashboard or trace would be part of what is measured.
    /// </summary>
    private static readonly string[] s_reserved = ["--model", "-m", "--host", "--port", "--port-file", "--log-level", "--max-connections", "--dashboard", "--trace", "--stats"];

    /// <summary>The name in the results: the model, then its options as given.</summary>
    public string Label => ServeOptions.Count == 0 ? Model.Name : $"{Model.Name} {string.Join(' ', ServeOptions)}";

    /// <summary>
    /// One <c>--model</c> entry: a model name, then any <c>serve</c> options separated by spaces. The
    /// options are checked with serve's own parser here, before any server starts.
    /// </summary>
    public static BenchServer Parse(string entry)
    {
        string[] words = entry.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        ModelInfo model = Commands.ServeCommand.Resolve(words[0]);
        string[] options = words[1..];
        foreach (string option in options)
        {
            string name = option.Split('=', ':')[0];
            if (s_reserved.Contains(name, StringComparer.Ordinal))
            {
                throw new CliException(ExitCode.UsageError, $"--model '{entry}': {name} is bench's to set (every server runs quiet on loopback port 0); give only the model's own options");
            }
        }

        ParseResult parsed = Commands.ServeCommand.Create().Parse(["--model", model.Name, .. options]);
        if (parsed.Errors.Count > 0)
        {
            throw new CliException(ExitCode.UsageError, $"--model '{entry}': {parsed.Errors[0].Message}");
        }

        return new BenchServer(model, options);
    }
}
