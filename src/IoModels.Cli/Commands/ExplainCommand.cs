using System.CommandLine;
using System.Globalization;
using IoModels.Cli.Explain;

namespace IoModels.Cli.Commands;

/// <summary><c>iomodels explain [MODEL|glossary|pitfalls] [--lang en|zh]</c>: the lesson behind each model, as text, the terms, and the notes' mistakes.</summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var model = new Argument<string?>("model")
        {
            Description = $"the model to explain ({string.Join(", ", ExplainTexts.Models)}), {ExplainTexts.Glossary} for the terms in English and Chinese, or {ExplainTexts.Pitfalls} for the notes' classic mistakes; without one, the overview and comparison",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Option<string?> language = CommonOptions.Language();
        var command = new Command("explain", "Explain the IO models: the two phases of a read, a timeline per model, what to watch, what to try.")
        {
            model, language,
        };
        command.SetAction(result => Run(
            result.GetValue(model),
            result.GetValue(language) ?? ExplainTexts.DefaultLanguage(CultureInfo.CurrentUICulture),
            result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(string? model, string language, TextWriter output)
    {
        if (string.IsNullOrEmpty(model))
        {
            output.Write(ExplainTexts.Get(ExplainTexts.Overview, language));
            return (int)ExitCode.Success;
        }

        if (ExplainTexts.Extras.FirstOrDefault(t => string.Equals(t, model, StringComparison.OrdinalIgnoreCase)) is { } extra)
        {
            output.Write(ExplainTexts.Get(extra, language));
            return (int)ExitCode.Success;
        }

        string? topic = ExplainTexts.Models.FirstOrDefault(m => string.Equals(m, model, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException(ExitCode.UsageError, $"unknown model '{model}'; explain knows: {string.Join(", ", ExplainTexts.Models)} (and {string.Join(", ", ExplainTexts.Extras)})");
        output.Write(ExplainTexts.Get(topic, language));
        output.WriteLine();
        output.WriteLine(Availability(topic, language));
        return (int)ExitCode.Success;
    }

    /// <summary>One line on whether this build and this OS can run the model (the text itself never depends on it).</summary>
    internal static string Availability(string topic, string language)
    {
        ModelInfo? info = ModelRegistry.Find(topic);
        bool zh = language == "zh";
        if (info is null)
        {
            return zh ? $"这个版本还没有 {topic} 引擎（`iomodels models` 列出已有的引擎）。" : $"This build: the {topic} engine is not included yet (`iomodels models` lists the engines it has).";
        }

        if (!info.IsSupported)
        {
            return zh ? $"这个版本的 {topic} 引擎不能在此操作系统上运行：{info.UnsupportedReason}" : $"This build: the {topic} engine cannot run on this OS: {info.UnsupportedReason}";
        }

        string mechanism = info.Mechanism is { } m ? $" ({m})" : string.Empty;
        return zh ? $"这个版本的 {topic} 引擎可以在这台机器上运行{(info.Mechanism is { } z ? $"（{z}）" : string.Empty)}。" : $"This build: the {topic} engine runs on this machine{mechanism}.";
    }
}
