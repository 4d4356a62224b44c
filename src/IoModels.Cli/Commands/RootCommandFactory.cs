using System.CommandLine;

namespace IoModels.Cli.Commands;

/// <summary>
/// The <c>iomodels</c> root command with every subcommand: built here once, so <c>Program.Main</c> runs
/// it and the tests parse the commands the texts and the README quote with the very same parser.
/// </summary>
internal static class RootCommandFactory
{
    public static RootCommand Create() =>
        new("iomodels: the five IO models (and two more) as TCP uppercase-echo servers you can watch and measure.")
        {
            ServeCommand.Create(),
            ClientCommand.Create(),
            ModelsCommand.Create(),
            ExplainCommand.Create(),
            DemoCommand.Create(),
            BenchCommand.Create(),
        };
}
