namespace IoModels.Cli.Bench;

/// <summary>How <c>iomodels bench</c> prints its results.</summary>
internal enum BenchFormat
{
    /// <summary>A rendered table for a terminal.</summary>
    Table,

    /// <summary>A GitHub-flavoured Markdown table, with the machine and command above it.</summary>
    Markdown,

    /// <summary>One header line and one line per run, numbers without units.</summary>
    Csv,

    /// <summary>The machine, the command and every run, as one JSON object.</summary>
    Json,
}
