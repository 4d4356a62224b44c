namespace IoModels.Cli.Demos;

/// <summary>
/// What a scenario measured (named numbers, for tests and for the record) and its conclusion, worded from
/// them. The conclusion exists only when every check of the claim held in this run; otherwise it is null
/// and <see cref="Failures"/> says which measurement did not show what the demo is about.
/// </summary>
internal sealed record DemoResult(string? Conclusion, IReadOnlyList<string> Failures, IReadOnlyDictionary<string, double> Numbers)
{
    /// <summary>Concludes from <paramref name="numbers"/> only if every check held; the wording is built only then.</summary>
    public static DemoResult Judge(IReadOnlyDictionary<string, double> numbers, IEnumerable<DemoCheck> checks, Func<string> conclusion)
    {
        string[] failures = [.. checks.Where(c => !c.Held).Select(c => c.Failure)];
        return new DemoResult(failures.Length == 0 ? conclusion() : null, failures, numbers);
    }
}

/// <summary>One measured condition a conclusion depends on, and what to say when the run did not show it.</summary>
internal readonly record struct DemoCheck(bool Held, string Failure);
