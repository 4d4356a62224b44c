using System.CommandLine;

namespace IoModels.Cli.Commands;

/// <summary><c>iomodels models</c>: every model, one line each, with whether this OS can run it and the serve flags only it takes.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List the IO models and whether this OS can run each.");
        command.SetAction(result => Run(result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(TextWriter output)
    {
        int width = ModelRegistry.All.Max(m => m.Name.Length);
        foreach (ModelInfo model in ModelRegistry.All)
        {
            string availability = model.IsSupported
                ? (model.Mechanism is { } mechanism ? $"available ({mechanism})" : "available")
                : $"unavailable: {model.UnsupportedReason}";
            string marker = model.Name == ModelRegistry.DefaultModel ? " (default)" : string.Empty;
            string options = model.Options.Count == 0 ? string.Empty : $"; takes {string.Join(", ", model.Options.Select(ModelFlags.FlagName))}";
            output.WriteLine($"{model.Name.PadRight(width)}  {model.Summary}{marker}; {availability}{options}");
        }

        return (int)ExitCode.Success;
    }
}
