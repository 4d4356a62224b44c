using System.Text;

namespace IoModels.Cli;

/// <summary>
/// Text for a terminal or a projector: its width in columns (Chinese takes two per character) and
/// wrapping to a width, so narration that runs longer than a line stays readable in a classroom.
/// </summary>
internal static partial class TerminalText
{
    /// <summary>The width the lessons and demos keep to: a projector's terminal, 100 columns.</summary>
    public const int ProjectorWidth = 100;

    /// <summary>Columns on a terminal: East Asian wide and fullwidth characters take two, the rest one.</summary>
    public static int Width(string text)
    {
        int width = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            width += IsWide(rune.Value) ? 2 : 1;
        }

        return width;
    }

    /// <summary>The Unicode East Asian Width classes W and F, by block (UAX #11), as far as these texts can use them.</summary>
    public static bool IsWide(int c) =>
        c is (>= 0x1100 and <= 0x115F) or (>= 0x2E80 and <= 0x303E) or (>= 0x3041 and <= 0x33FF)
            or (>= 0x3400 and <= 0x4DBF) or (>= 0x4E00 and <= 0x9FFF) or (>= 0xA000 and <= 0xA4CF)
            or (>= 0xAC00 and <= 0xD7A3) or (>= 0xF900 and <= 0xFAFF) or (>= 0xFE30 and <= 0xFE4F)
            or (>= 0xFF00 and <= 0xFF60) or (>= 0xFFE0 and <= 0xFFE6) or (>= 0x20000 and <= 0x3FFFD);

    /// <summary>
    /// <paramref name="prefix"/> then <paramref name="text"/>, broken into lines of at most
    /// <paramref name="width"/> columns, later lines indented under the text. English breaks at spaces;
    /// Chinese between any two characters, but never before closing punctuation (，。） and the like).
    /// A word longer than a line is left whole on a line of its own. Spaces that open the text (a
    /// sub-point under a heading) are kept, and the later lines are indented under them too.
    /// </summary>
    public static IReadOnlyList<string> Wrap(string prefix, string text, int width = ProjectorWidth)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(text);
        int opening = text.Length - text.TrimStart(' ').Length;
        prefix += new string(' ', opening);
        if (text.Trim().Length == 0)
        {
            return [prefix.TrimEnd()];
        }

        int indent = Math.Min(Width(prefix), width / 2); // a label as wide as the line would leave no room under it
        var lines = new List<string>();
        var line = new StringBuilder(prefix);
        int used = Width(prefix);
        bool lineHasText = false;
        foreach ((string unit, bool spaceBefore) in KeepMeasuresWhole(Units(text)))
        {
            int unitWidth = Width(unit);
            int gap = spaceBefore && lineHasText ? 1 : 0;
            if (lineHasText && used + gap + unitWidth > width)
            {
                lines.Add(line.ToString());
                line.Clear().Append(' ', indent);
                used = indent;
                gap = 0;
            }

            line.Append(' ', gap).Append(unit);
            used += gap + unitWidth;
            lineHasText = true;
        }

        lines.Add(line.ToString());
        return lines;
    }

    /// <summary>
    /// The pieces a line may break between: a run of non-wide characters (a word), or one wide
    /// character with any closing punctuation that follows it; and whether spaces came before it.
    /// </summary>
    private static IEnumerable<(string Unit, bool SpaceBefore)> Units(string text)
    {
        var unit = new StringBuilder();
        bool unitWide = false;
        bool spaceBefore = false;
        bool pendingSpace = false;
        int last = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune) && rune.Value is not (0xA0 or 0x202F)) // a no-break space holds its neighbours together
            {
                pendingSpace = true;
                continue;
            }

            bool wide = IsWide(rune.Value);
            bool attaches = unit.Length > 0 && !pendingSpace && (IsClosing(rune.Value) || IsOpening(last) || (!wide && !unitWide));
            if (!attaches && unit.Length > 0)
            {
                yield return (unit.ToString(), spaceBefore);
                unit.Clear();
            }

            if (unit.Length == 0)
            {
                spaceBefore = pendingSpace;
                unitWide = wide;
            }

            unit.Append(rune.ToString());
            unitWide = (unitWide || wide) && !IsOpening(rune.Value); // after "（" a word attaches: "（ulimit" is one piece
            pendingSpace = false;
            last = rune.Value;
        }

        if (unit.Length > 0)
        {
            yield return (unit.ToString(), spaceBefore);
        }
    }

    /// <summary>A number and the unit after it ("83 µs", "0.3 s") stay on one line: one piece, with its space.</summary>
    private static IEnumerable<(string Unit, bool SpaceBefore)> KeepMeasuresWhole(IEnumerable<(string Unit, bool SpaceBefore)> units)
    {
        (string Unit, bool SpaceBefore)? held = null;
        foreach ((string unit, bool spaceBefore) in units)
        {
            if (held is { } number && spaceBefore && char.IsAsciiDigit(number.Unit[^1]) && IsMeasureUnit(unit))
            {
                yield return (number.Unit + " " + unit, number.SpaceBefore);
                held = null;
                continue;
            }

            if (held is { } previous)
            {
                yield return previous;
            }

            held = (unit, spaceBefore);
        }

        if (held is { } last)
        {
            yield return last;
        }
    }

    /// <summary>A unit of measure, with any closing punctuation after it: µs, ms, s, KiB, MB, %, x ...</summary>
    private static bool IsMeasureUnit(string unit) => MeasureUnit().IsMatch(unit);

    [System.Text.RegularExpressions.GeneratedRegex(@"^(ns|µs|us|ms|s|B|KB|MB|GB|KiB|MiB|GiB|%|x|KiB/s|MB/s|msg/s)[，。、；：）,.;:)]*$")]
    private static partial System.Text.RegularExpressions.Regex MeasureUnit();

    /// <summary>Punctuation a line must not end with: it opens what comes after it.</summary>
    private static bool IsOpening(int c) => c is '（' or '《' or '「' or '『' or '“' or '‘' or '(' or '"';

    /// <summary>Punctuation a line must not start with: it closes what came before it.</summary>
    private static bool IsClosing(int c) => c is '，' or '。' or '、' or '；' or '：' or '？' or '！' or '）' or '》' or '」' or '』' or '”' or '’'
        or ',' or '.' or ';' or ':' or '?' or '!' or ')' or '"';
}
