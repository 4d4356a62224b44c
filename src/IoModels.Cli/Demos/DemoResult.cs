namespace IoModels.Cli.Demos;

/// <summary>What a scenario measured (named numbers, for tests and for the record) and its conclusion, worded from them.</summary>
internal sealed record DemoResult(string Conclusion, IReadOnlyDictionary<string, double> Numbers);
