using System.Reflection;

namespace IoModels.Cli.Explain;

/// <summary>
/// The teaching texts of <c>iomodels explain</c>: an overview and one text per model, in English and
/// Chinese, a bilingual glossary of their terms and the notes' pitfalls, kept as plain-text files beside this class (Explain/MODEL.LANG.txt) and embedded in the
/// executable. They do not depend on which engines this build registered.
/// </summary>
internal static class ExplainTexts
{
    /// <summary>The overview's name among the texts.</summary>
    public const string Overview = "overview";

    /// <summary>The glossary's name among the texts: each term in English and Chinese with a one-line definition.</summary>
    public const string Glossary = "glossary";

    /// <summary>The pitfalls' name among the texts: the notes' scripts' classic mistakes and the engine line that prevents each.</summary>
    public const string Pitfalls = "pitfalls";

    /// <summary>The texts that are not about one model, as <c>explain</c> takes them: the glossary and the pitfalls.</summary>
    public static IReadOnlyList<string> Extras { get; } = [Glossary, Pitfalls];

    /// <summary>Every model the texts explain, in teaching order (Stevens' five, then the two extras).</summary>
    public static IReadOnlyList<string> Models { get; } = ["blocking", "nonblocking", "select", "epoll", "signal", "async", "uring"];

    /// <summary>The languages, English first (the default).</summary>
    public static IReadOnlyList<string> Languages { get; } = ["en", "zh"];

    /// <summary>The text for <paramref name="topic"/> (a model or <see cref="Overview"/>) in <paramref name="language"/>.</summary>
    /// <exception cref="InvalidOperationException">The build lacks the text: a packaging bug, caught by the tests.</exception>
    public static string Get(string topic, string language)
    {
        string name = $"explain.{topic}.{language}";
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The text '{name}' is not embedded in this build.");
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>English unless the user's UI culture is Chinese.</summary>
    public static string DefaultLanguage(System.Globalization.CultureInfo culture) =>
        culture.TwoLetterISOLanguageName == "zh" ? "zh" : "en";
}
