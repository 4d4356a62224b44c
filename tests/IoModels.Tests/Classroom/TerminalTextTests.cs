using IoModels.Cli;

namespace IoModels.Tests.Classroom;

/// <summary>Wrapping narration to the projector's width: nothing lost, nothing too wide, no line opening on a comma.</summary>
public sealed class TerminalTextTests
{
    [Fact]
    public void English_breaks_at_spaces_under_its_label_and_loses_no_word()
    {
        string text = string.Join(' ', Enumerable.Range(1, 40).Select(i => $"word{i}"));
        IReadOnlyList<string> lines = TerminalText.Wrap("Conclusion: ", text, width: 40);

        Assert.True(lines.Count > 1);
        Assert.StartsWith("Conclusion: word1 ", lines[0], StringComparison.Ordinal);
        Assert.All(lines, line => Assert.True(line.Length <= 40, line));
        Assert.All(lines.Skip(1), line => Assert.StartsWith(new string(' ', 12) + "word", line, StringComparison.Ordinal));
        Assert.Equal(text, string.Join(' ', lines.Select(l => l.Trim())).Replace("Conclusion: ", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Chinese_breaks_between_characters_counts_two_columns_each_and_never_starts_a_line_with_closing_punctuation()
    {
        string text = string.Concat(Enumerable.Repeat("只有一个工作线程时，B 为一次回显等了 2.1 秒（应答很快）。", 6));
        IReadOnlyList<string> lines = TerminalText.Wrap("结论：", text, width: 30);

        Assert.True(lines.Count > 4);
        Assert.All(lines, line => Assert.True(TerminalText.Width(line) <= 30, $"{TerminalText.Width(line)}: {line}"));
        Assert.All(lines.Skip(1), line => Assert.DoesNotMatch("^ *[，。）、；：]", line));
        Assert.All(lines.Skip(1), line => Assert.StartsWith("      ", line, StringComparison.Ordinal)); // under the label: 结论： is 6 columns
        string joined = string.Concat(lines.Select(l => l.Trim())).Replace(" ", "", StringComparison.Ordinal);
        Assert.Equal("结论：" + text.Replace(" ", "", StringComparison.Ordinal), joined);
    }

    [Fact]
    public void A_word_longer_than_a_line_stays_whole_on_its_own_line()
    {
        string path = "/proc/sys/net/ipv4/" + new string('x', 60);
        IReadOnlyList<string> lines = TerminalText.Wrap("[  0.00s] ", "read " + path + " now", width: 40);
        Assert.Equal(["[  0.00s] read", "          " + path, "          now"], lines);
    }

    [Fact]
    public void A_number_keeps_its_unit_on_its_line()
    {
        IReadOnlyList<string> lines = TerminalText.Wrap("", "CPU per round trip was 83 µs, then 0.3 s。", width: 26);
        Assert.Equal(["CPU per round trip was", "83 µs, then 0.3 s。"], lines);
    }

    [Fact]
    public void Spaces_that_open_the_text_are_kept_and_indent_its_later_lines()
    {
        IReadOnlyList<string> lines = TerminalText.Wrap("[  0.01s] ", "    epoll, 51 connections: 25 round trips in 5 ms", width: 40);
        Assert.Equal(["[  0.01s]     epoll, 51 connections: 25", "              round trips in 5 ms"], lines);
    }

    [Fact]
    public void A_word_after_an_opening_bracket_is_one_piece()
    {
        IReadOnlyList<string> lines = TerminalText.Wrap("", "运行时需要描述符（ulimit -n 100）才行", width: 20);
        Assert.Contains(lines, line => line.Contains("（ulimit", StringComparison.Ordinal));
        Assert.All(lines, line => Assert.True(TerminalText.Width(line) <= 20 || !line.Trim().Contains(' ', StringComparison.Ordinal), line));
    }

    [Fact]
    public void Empty_text_and_a_label_as_wide_as_the_line_still_give_readable_lines()
    {
        Assert.Equal(["Conclusion:"], TerminalText.Wrap("Conclusion: ", "   "));
        IReadOnlyList<string> lines = TerminalText.Wrap(new string('#', 30), "one two three four five six", width: 30);
        Assert.All(lines.Skip(1), line => Assert.True(line.Length <= 30, line)); // later lines indented by at most half the width
        Assert.Equal("one two three four five six", string.Join(' ', lines.Select(l => l.Trim('#', ' '))));
    }

    [Fact]
    public void Width_counts_wide_characters_twice()
    {
        Assert.Equal(5, TerminalText.Width("epoll"));
        Assert.Equal(8, TerminalText.Width("零字节接"));
        Assert.Equal(5, TerminalText.Width("（a）")); // fullwidth brackets, two columns each
    }
}
