using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using IoModels.Cli;
using IoModels.Cli.Commands;
using IoModels.Cli.Explain;
using IoModels.Tests.Support;

namespace IoModels.Tests.Classroom;

/// <summary><c>iomodels explain</c>: a text for every model in both languages, independent of the registry.</summary>
public sealed partial class ExplainTests
{
    public static TheoryData<string, string> ModelsAndLanguages
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string model in ExplainTexts.Models)
            {
                foreach (string language in ExplainTexts.Languages)
                {
                    data.Add(model, language);
                }
            }

            return data;
        }
    }

    [Fact]
    public void The_seven_models_are_explained_whether_or_not_this_build_registers_them()
    {
        Assert.Equal(["async", "blocking", "epoll", "nonblocking", "select", "signal", "uring"], ExplainTexts.Models.Order(StringComparer.Ordinal));
        Assert.All(ModelRegistry.All, m => Assert.Contains(m.Name, ExplainTexts.Models));
    }

    [Theory, MemberData(nameof(ModelsAndLanguages))]
    public void Every_model_has_a_text_in_each_language_that_names_it(string model, string language)
    {
        string text = ExplainTexts.Get(model, language);
        Assert.True(text.Length > 1500, $"{model}.{language} is only {text.Length} characters");
        Assert.Contains(model, text, StringComparison.OrdinalIgnoreCase);
        if (language == "zh")
        {
            Assert.True(CjkCount(text) > 200, $"{model}.zh has only {CjkCount(text)} CJK characters");
        }
        else
        {
            Assert.Equal(0, CjkCount(text));
        }

        // The sections the brief asks for, recognisable in either language by what they contain.
        Assert.Contains("--->", text, StringComparison.Ordinal); // the timeline diagram
        Assert.Contains("iomodels serve --model " + model, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("en")]
    [InlineData("zh")]
    public void The_overview_defines_the_two_phases_and_compares_every_model(string language)
    {
        string text = ExplainTexts.Get(ExplainTexts.Overview, language);
        foreach (string model in ExplainTexts.Models)
        {
            Assert.Matches(new Regex(@"^\s{2}" + model + @"\s", RegexOptions.Multiline), text); // a row of the comparison table
        }

        Assert.Contains("poll(2)", text, StringComparison.Ordinal);
        Assert.Contains("IOCP", text, StringComparison.Ordinal);
        if (language == "zh")
        {
            Assert.True(CjkCount(text) > 500);
        }
    }

    [SkippableTheory, MemberData(nameof(ModelsAndLanguages))]
    public void A_registered_model_text_names_every_counter_its_statistics_line_prints(string model, string language)
    {
        ModelInfo? info = ModelRegistry.Find(model);
        Skip.If(info is null, $"the {model} engine is not in this build; its text is checked against its counters once it is");
        string text = ExplainTexts.Get(model, language);
        foreach (EchoCounter counter in info!.KeyCounters)
        {
            Assert.Contains(StatisticsFormatter.Label(counter), text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_command_the_texts_suggest_parses()
    {
        var root = new RootCommand { ServeCommand.Create(), ClientCommand.Create(), ModelsCommand.Create(), ExplainCommand.Create(), DemoCommand.Create() };
        int checkedCommands = 0;
        foreach (string topic in ExplainTexts.Models.Append(ExplainTexts.Overview))
        {
            foreach (string language in ExplainTexts.Languages)
            {
                foreach (Match match in CommandLine().Matches(ExplainTexts.Get(topic, language)))
                {
                    string[] args = match.Groups[1].Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    ParseResult result = root.Parse(args);
                    Assert.True(result.Errors.Count == 0, $"{topic}.{language}: 'iomodels {string.Join(' ', args)}': {string.Join("; ", result.Errors.Select(e => e.Message))}");
                    checkedCommands++;
                }
            }
        }

        Assert.True(checkedCommands > 50, $"only {checkedCommands} commands found");
    }

    [Theory]
    [InlineData("zh-CN", "zh")]
    [InlineData("zh-TW", "zh")]
    [InlineData("en-US", "en")]
    [InlineData("de-DE", "en")]
    public void The_language_follows_the_ui_culture_when_not_given(string culture, string expected)
    {
        Assert.Equal(expected, ExplainTexts.DefaultLanguage(new CultureInfo(culture)));
    }

    [Fact]
    public void An_unknown_model_is_a_usage_error_listing_the_models()
    {
        CliException error = Assert.Throws<CliException>(() => ExplainCommand.Run("carrier-pigeon", "en", TextWriter.Null));
        Assert.Equal(ExitCode.UsageError, error.ExitCode);
        Assert.Contains("blocking, nonblocking, select, epoll, signal, async, uring", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_executable_explains_in_chinese_and_rejects_an_unknown_model_with_exit_code_2()
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null, "explain", "select", "--lang", "zh");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("Socket.Select", stdout, StringComparison.Ordinal);
        Assert.True(CjkCount(stdout) > 200);

        (exitCode, stdout, stderr) = await CliProcess.RunAsync(null, "explain", "carrier-pigeon");
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal("iomodels: unknown model 'carrier-pigeon'; explain knows: blocking, nonblocking, select, epoll, signal, async, uring", line);
    }

    private static int CjkCount(string text) => text.Count(c => c is >= '\u4E00' and <= '\u9FFF');

    /// <summary>"  iomodels serve --model x --stats 1s        comment": the command, up to two spaces or a closing quote.</summary>
    [GeneratedRegex(@"iomodels((?: [^\s`']+)+)")]
    private static partial Regex CommandLine();
}
