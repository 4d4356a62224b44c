using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using IoModels.Cli;
using IoModels.Cli.Commands;
using IoModels.Cli.Explain;
using IoModels.Tests.Support;

namespace IoModels.Tests.Classroom;

/// <summary><c>iomodels explain</c>: a text for every model in both languages, independent of the registry.</summary>
public sealed partial class ExplainTests
{
    public static TheoryData<string, string> ModelsAndLanguages => InEveryLanguage(ExplainTexts.Models);

    /// <summary>Every text: the models, the overview, the glossary and the pitfalls.</summary>
    public static TheoryData<string, string> TopicsAndLanguages => InEveryLanguage(AllTopics);

    private static IEnumerable<string> AllTopics => ExplainTexts.Models.Append(ExplainTexts.Overview).Concat(ExplainTexts.Extras);

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
    public void The_overview_compares_every_model_and_says_where_each_runs_as_the_registry_does(string language)
    {
        string text = ExplainTexts.Get(ExplainTexts.Overview, language);
        foreach (string model in ExplainTexts.Models)
        {
            Assert.Matches(new Regex(@"^\s{2}" + model + @"\s", RegexOptions.Multiline), text); // a row of the comparison table

            // "  uring        Linux 5.11 or later      (details...)": where it runs, up to a wide gap or a parenthesis.
            Match row = Regex.Match(text, "^  " + model + @" +((?:Linux|macOS|FreeBSD|Windows).*?)(?: {2,}|[(（]|$)", RegexOptions.Multiline);
            Assert.True(row.Success, $"overview.{language} does not say where {model} runs");
            if (ModelRegistry.Find(model) is { } info)
            {
                AssertStatesRegistry(info, $"overview.{language} ({model})", row.Groups[1].Value);
            }
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
        RootCommand root = RootCommandFactory.Create(); // the parser Program.Main runs
        int checkedCommands = 0;
        foreach (string topic in AllTopics)
        {
            foreach (string language in ExplainTexts.Languages)
            {
                checkedCommands += AssertCommandsParse(root, $"{topic}.{language}", ExplainTexts.Get(topic, language));
            }
        }

        Assert.True(checkedCommands > 50, $"only {checkedCommands} commands found");
    }

    [Fact]
    public void Every_command_of_the_readme_lesson_plan_parses()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int start = readme.IndexOf("A 20-minute lesson", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no lesson plan ('A 20-minute lesson')");
        int end = readme.IndexOf("\n\n", readme.IndexOf("| min |", start, StringComparison.Ordinal), StringComparison.Ordinal);
        string plan = readme[start..(end < 0 ? readme.Length : end)];

        int checkedCommands = AssertCommandsParse(RootCommandFactory.Create(), "README lesson plan", plan);
        Assert.True(checkedCommands >= 8, $"only {checkedCommands} commands found in the lesson plan");
    }

    [Theory, MemberData(nameof(TopicsAndLanguages))]
    public void Every_line_fits_a_projector_100_columns_wide(string topic, string language)
    {
        string[] lines = ExplainTexts.Get(topic, language).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int width = TerminalText.Width(lines[i].TrimEnd('\r'));
            Assert.True(width <= 100, $"{topic}.{language} line {i + 1} is {width} columns: {lines[i]}");
        }
    }

    [SkippableTheory, MemberData(nameof(ModelsAndLanguages))]
    public void A_model_text_states_the_platforms_and_kernel_of_its_registry_entry(string model, string language)
    {
        ModelInfo? info = ModelRegistry.Find(model);
        Skip.If(info is null, $"the {model} engine is not in this build");
        string label = language == "zh" ? "运行平台：" : "Runs on:";
        Match line = Regex.Match(ExplainTexts.Get(model, language), "^  " + label + @"\s*(.+)$", RegexOptions.Multiline);
        Assert.True(line.Success, $"{model}.{language} has no '{label}' line at the top");
        AssertStatesRegistry(info!, $"{model}.{language}", line.Groups[1].Value);
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
        Assert.Equal("iomodels: unknown model 'carrier-pigeon'; explain knows: blocking, nonblocking, select, epoll, signal, async, uring (and glossary, pitfalls)", line);
    }

    [Fact]
    public void The_glossary_pairs_the_same_terms_in_both_languages()
    {
        (string First, string Second)[] english = GlossaryTerms("en");
        (string First, string Second)[] chinese = GlossaryTerms("zh");
        Assert.True(english.Length >= 25, $"the glossary has only {english.Length} terms");
        Assert.Equal(english.Select(t => (t.Second, t.First)), chinese); // en lists "english / 中文", zh "中文 / english"
        Assert.All(english, t => Assert.Equal(0, CjkCount(t.First)));
        Assert.All(chinese, t => Assert.Equal(0, CjkCount(t.Second)));
    }

    [Fact]
    public void Every_chinese_term_of_the_glossary_is_one_the_chinese_texts_use()
    {
        string[] texts = [.. ExplainTexts.Models.Append(ExplainTexts.Overview).Select(t => ExplainTexts.Get(t, "zh"))];
        foreach ((string term, _) in GlossaryTerms("zh"))
        {
            Assert.True(texts.Any(text => text.Contains(term, StringComparison.Ordinal)),
                $"the glossary defines '{term}', which no Chinese explain text uses: use the texts' word or add it to them");
        }
    }

    [Theory]
    [InlineData("en", "half-close / 半关闭")]
    [InlineData("zh", "半关闭 / half-close")]
    public async Task Explain_glossary_prints_the_glossary_in_either_language(string language, string entry)
    {
        var output = new StringWriter();
        ParseResult parsed = RootCommandFactory.Create().Parse(["explain", "GLOSSARY", "--lang", language]);
        Assert.Empty(parsed.Errors);
        int exitCode = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, EnableDefaultExceptionHandler = false });
        Assert.Equal(0, exitCode);
        Assert.Equal(ExplainTexts.Get(ExplainTexts.Glossary, language), output.ToString());
        Assert.Contains("\n  " + entry + "\n      ", output.ToString().ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    /// <summary>
    /// Each engine line <c>explain pitfalls</c> names as the one that prevents a mistake: the file, the method
    /// and the code as the text quotes them, and the code as the file has it. The test fails when the engine
    /// moves on and the text does not.
    /// </summary>
    public static TheoryData<string, string, string, string> PitfallLines => new()
    {
        { "IoModels/Hosting/EchoServerBase.Polled.cs", "AcceptPending", "client!.Blocking = false;", "client!.Blocking = false;" },
        { "IoModels/Engines/NonBlocking/NonBlockingEchoServer.cs", "Run", "AcceptPending(listener, acceptPolicy, now, _adopt, ", "AcceptPending(listener, acceptPolicy, now, _adopt, " },
        { "IoModels/Engines/Select/SelectEchoServer.cs", "Run", "AcceptPending(listener, acceptPolicy, now, _adopt, ", "AcceptPending(listener, acceptPolicy, now, _adopt, " },
        { "IoModels/Engines/Signal/SignalEchoServer.cs", "Run", "AcceptPending(listener, acceptPolicy, now, _adopt, ", "AcceptPending(listener, acceptPolicy, now, _adopt, " },
        { "IoModels/Engines/Signal/SignalEchoServer.cs", "Adopt", "SIGIO", "Interop.Libc.EnableSigio(connection.Socket.SafeHandle);" },
        { "IoModels/Engines/Epoll/EpollEchoServer.Accept.cs", "AcceptNonBlocking", "SOCK_NONBLOCK | SOCK_CLOEXEC", "Interop.Accept4.SOCK_NONBLOCK | Interop.Accept4.SOCK_CLOEXEC" },
        { "IoModels/Engines/Select/SelectEchoServer.cs", "BuildLists", "if (!connection.Output.IsEmpty)", "if (!connection.Output.IsEmpty)" },
        { "IoModels/Hosting/EchoServerBase.Polled.cs", "ReceiveSome", "Receive(..., out SocketError error)", "out SocketError error" },
        { "IoModels/Hosting/EchoServerBase.Polled.cs", "ReceiveSome", "connection.PeerClosed", "connection.PeerClosed = true;" },
        { "IoModels/Engines/Select/SelectEchoServer.cs", "ReapFinished", "ReapFinished", "_connections.Remove(connection.Socket);" },
        { "IoModels/Hosting/EchoServerBase.Polled.cs", "ReceiveSome", "connection.Output.Commit(received)", "connection.Output.Commit(received);" },
        { "IoModels/Hosting/EchoServerBase.Polled.cs", "SendPending", "output.Consume(sent)", "output.Consume(sent);" },
        { "IoModels/Connections/OutputBuffer.cs", "Consume", "IoModels/Connections/OutputBuffer.cs", "public void Consume(int count)" },
        { "IoModels.Cli/Demos/DemoClient.cs", "ReceiveEchoAsync", "while (received < buffer.Length)", "while (received < buffer.Length)" },
        { "IoModels.Cli/Client/EchoExchange.cs", "ReceiveAsync", "EchoExchange.cs", "Never more than is owed" },
        { "IoModels/EchoServerOptions.cs", "Backlog", "Backlog = 4096", "public int Backlog { get; init; } = 4096;" },
        { "IoModels/Hosting/SocketSetup.cs", "CreateListener", "listener.Listen(options.Backlog);", "listener.Listen(options.Backlog);" },
        { "IoModels/Hosting/EchoServerBase.Polled.cs", "AcceptPending", "return 0; // Done: nobody waits", "return 0; // Done: nobody waits" },
    };

    [Theory, MemberData(nameof(PitfallLines))]
    public void Explain_pitfalls_names_engine_lines_that_exist(string file, string method, string quoted, string inFile)
    {
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", file));
        Assert.Matches(" " + method + @"[( ]", source); // a method, or a property such as Backlog
        Assert.Contains(inFile, source, StringComparison.Ordinal);
        foreach (string language in ExplainTexts.Languages)
        {
            string text = ExplainTexts.Get(ExplainTexts.Pitfalls, language);
            Assert.Contains(string.Join('/', file.Split('/')[^2..]), text, StringComparison.Ordinal); // the folder too: a moved file is a stale name
            Assert.Contains(method, text, StringComparison.Ordinal);
            Assert.Contains(quoted, text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("en")]
    [InlineData("zh")]
    public void Explain_pitfalls_covers_the_five_mistakes_and_the_demo_that_measures_them(string language)
    {
        string text = ExplainTexts.Get(ExplainTexts.Pitfalls, language);
        foreach (string heading in new[] { "(a) ", "(b) ", "(c) ", "(d) ", "(e) " })
        {
            Assert.Contains("\n" + heading, text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        }

        Assert.Contains("wdata[sock] = data", text, StringComparison.Ordinal);
        Assert.Contains("listen(5)", text, StringComparison.Ordinal);
        Assert.Contains("iomodels demo pitfalls", text, StringComparison.Ordinal);
        Assert.True(language == "zh" ? CjkCount(text) > 500 : CjkCount(text) == 0);
    }

    /// <summary>The glossary's entries: a line "  term / 术语" (or "  术语 / term") followed by a definition indented six.</summary>
    private static (string First, string Second)[] GlossaryTerms(string language)
    {
        string[] lines = ExplainTexts.Get(ExplainTexts.Glossary, language).ReplaceLineEndings("\n").Split('\n');
        var terms = new List<(string, string)>();
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            Match entry = Regex.Match(lines[i], "^  (\\S.*?) / (\\S.*)$");
            if (entry.Success && lines[i + 1].StartsWith("      ", StringComparison.Ordinal) && lines[i + 1].Trim().Length > 0)
            {
                terms.Add((entry.Groups[1].Value, entry.Groups[2].Value));
            }
        }

        return [.. terms];
    }

    private static TheoryData<string, string> InEveryLanguage(IEnumerable<string> topics)
    {
        var data = new TheoryData<string, string>();
        foreach (string topic in topics)
        {
            foreach (string language in ExplainTexts.Languages)
            {
                data.Add(topic, language);
            }
        }

        return data;
    }

    private static int CjkCount(string text) => text.Count(c => c is >= '\u4E00' and <= '\u9FFF');

    /// <summary>Parses every <c>iomodels ...</c> command quoted in <paramref name="text"/>; returns how many.</summary>
    private static int AssertCommandsParse(RootCommand root, string where, string text)
    {
        int count = 0;
        foreach (Match match in CommandLine().Matches(text))
        {
            string[] args = match.Groups[1].Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            ParseResult result = root.Parse(args);
            Assert.True(result.Errors.Count == 0, $"{where}: 'iomodels {string.Join(' ', args)}': {string.Join("; ", result.Errors.Select(e => e.Message))}");
            count++;
        }

        return count;
    }

    /// <summary>"Linux, macOS" or "Linux 5.11 or later" (or "Linux、macOS", "Linux 5.11 及以上") against the registry entry.</summary>
    private static void AssertStatesRegistry(ModelInfo info, string where, string statement)
    {
        string[] items = statement.Split([',', '、'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        IEnumerable<string> platforms = items.Select(i => i.Split(' ')[0]).Order(StringComparer.Ordinal);
        string[] versions = [.. Regex.Matches(statement, @"\d+\.\d+").Select(m => m.Value)];
        string[] kernel = info.MinimumKernel is { } minimum ? [minimum.ToString(2)] : [];
        Assert.True(platforms.SequenceEqual(info.Platforms.Order(StringComparer.Ordinal)) && versions.SequenceEqual(kernel),
            $"{where} says '{statement}'; the registry says {string.Join(", ", info.Platforms)}"
            + (kernel.Length > 0 ? $" (Linux {kernel[0]} or later)" : string.Empty));
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IoModels.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No IoModels.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>"  iomodels serve --model x --stats 1s        comment": the command, up to two spaces or a closing quote.</summary>
    [GeneratedRegex(@"iomodels((?: [^\s`']+)+)")]
    private static partial Regex CommandLine();
}
