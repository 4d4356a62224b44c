using IoModels.Cli;
using IoModels.Cli.Commands;
using IoModels.Cli.Demos;
using IoModels.Tests.Support;

namespace IoModels.Tests.Classroom;

/// <summary>
/// <c>iomodels demo</c>: every scenario runs to completion at a small size and its measurements show
/// what it claims, and a run whose numbers contradict the claim concludes nothing. Scenarios whose
/// engines this build lacks are skipped with the reason.
/// </summary>
[Collection(DemosRunAlone.Name)]
public sealed class DemoTests
{
    /// <summary>Small enough to take a few seconds on a loaded machine; the scenarios keep their own minimums.</summary>
    private const double SmallScale = 0.05;

    public static TheoryData<string> Scenarios
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (IDemoScenario scenario in DemoCatalog.All)
            {
                data.Add(scenario.Name);
            }

            return data;
        }
    }

    [Fact]
    public void The_catalogue_has_the_lessons_with_unique_names()
    {
        Assert.Equal(["one-worker", "pool-of-two", "busy-poll", "select-vs-epoll", "threads-vs-async", "edge-vs-level", "uring-vs-epoll",
            "async-is-readiness", "pitfalls"], DemoCatalog.All.Select(d => d.Name));
    }

    [SkippableTheory, MemberData(nameof(Scenarios))]
    public async Task Each_scenario_runs_small_and_concludes_with_what_it_measured(string name)
    {
        IDemoScenario scenario = DemoCatalog.Find(name)!;
        foreach (string model in scenario.Models)
        {
            ModelInfo? info = ModelRegistry.Find(model);
            Skip.IfNot(info is not null, $"the {model} model is not in this build");
            Skip.IfNot(info!.IsSupported, $"the {model} model is not available on this OS: {info.UnsupportedReason}");
        }

        var output = new StringWriter();
        DemoResult result = await DemoCommand.RunScenarioAsync(scenario, new DemoContext(output, SmallScale), CancellationToken.None)
            .WithTimeout(TimeSpan.FromSeconds(60));
        IReadOnlyDictionary<string, double> n = result.Numbers;
        Assert.NotEmpty(output.ToString());
        Assert.NotEmpty(n);

        // The same run, with the one number the claim rests on contradicting it: no conclusion at all.
        DemoResult failed = scenario.Judge(Contradict(name, n));
        Assert.Null(failed.Conclusion);
        Assert.NotEmpty(failed.Failures);

        // The answer to the question put before the run quotes what this run measured.
        Assert.Matches(@"\d", scenario.Answer(n, "en"));
        Assert.True(CjkCount(scenario.Answer(n, "zh")) > 5, scenario.Answer(n, "zh"));

        // busy-poll compares CPU, which a machine loaded by other work can blur at this size; it then
        // rightly concludes nothing. Every other claim rests on counts the run controls.
        Skip.If(result.Conclusion is null && name == "busy-poll", $"this machine's load hid the CPU difference: {string.Join("; ", result.Failures)}");
        Assert.True(result.Conclusion is not null, $"no conclusion: {string.Join("; ", result.Failures)}");

        switch (name)
        {
            case "one-worker":
                // B cannot be answered before A leaves, and A leaves only after holding the worker.
                Assert.True(n["b_wait_s"] >= n["hold_s"] * 0.9, $"B waited {n["b_wait_s"]} s, A held {n["hold_s"]} s");
                Assert.Equal(1, n["peak_threads"]);
                Assert.Contains(DemoContext.F(n["b_wait_s"]) + " s", result.Conclusion, StringComparison.Ordinal);
                break;
            case "pool-of-two":
                Assert.True(n["c_wait_s"] >= n["hold_s"] * 0.9, $"C waited {n["c_wait_s"]} s, A held {n["hold_s"]} s");
                Assert.Equal(2, n["peak_threads"]);
                Assert.Equal(2, n["peak_connections"]);
                Assert.Contains(DemoContext.F(n["c_wait_s"]) + " s", result.Conclusion, StringComparison.Ordinal);
                break;
            case "busy-poll":
                Assert.True(n["spin_sweeps_per_s"] > n["sleep_sweeps_per_s"], $"spinning swept {n["spin_sweeps_per_s"]}/s, sleeping {n["sleep_sweeps_per_s"]}/s");
                Assert.True(n["spin_would_block_per_s"] > 0);
                Assert.Contains(DemoContext.F(n["spin_cpu_percent"], "0") + "% of a core", result.Conclusion, StringComparison.Ordinal);
                break;
            case "select-vs-epoll":
                for (int i = 0; i < 3; i++)
                {
                    Assert.True(n[$"select_scanned_per_wait_{i}"] >= n[$"idle_clients_{i}"], $"select scanned {n[$"select_scanned_per_wait_{i}"]} per wait with {n[$"idle_clients_{i}"]} idle clients");
                    Assert.True(n[$"epoll_waits_{i}"] > 0 && n[$"select_waits_{i}"] > 0);
                }

                Assert.True(n["select_scanned_per_wait_per_1000"] >= 900, $"select's scan grew by {n["select_scanned_per_wait_per_1000"]} per 1,000 idle clients");
                Assert.True(n["epoll_ready_per_wait_per_1000"] < n["select_scanned_per_wait_per_1000"] / 100);
                Assert.Contains("+" + DemoContext.F(n["select_scanned_per_wait_per_1000"], "0") + " per 1,000 idle clients", result.Conclusion, StringComparison.Ordinal);
                if (ModelRegistry.Find("signal") is { IsSupported: true })
                {
                    Assert.True(n["signal_scanned_per_wait"] >= n["signal_idle_clients"], $"signal tried {n["signal_scanned_per_wait"]} sockets per signal with {n["signal_idle_clients"]} idle clients");
                    Assert.Contains("tried " + DemoContext.F(n["signal_scanned_per_wait"], "0") + " sockets per signal", result.Conclusion, StringComparison.Ordinal);
                }

                break;
            case "threads-vs-async":
                Assert.True(n["blocking_engine_threads"] >= n["clients"], $"blocking ran {n["blocking_engine_threads"]} threads for {n["clients"]} clients");
                Assert.True(n["async_engine_threads"] < n["clients"]);
                Assert.Contains($"ran {n["blocking_engine_threads"]} engine threads", result.Conclusion, StringComparison.Ordinal);
                break;
            case "edge-vs-level":
                Assert.True(n["level_small_would_block_per_message"] <= 0.1, $"level-triggered: {n["level_small_would_block_per_message"]} EAGAIN reads per message");
                Assert.True(n["edge_small_would_block_per_event"] >= 0.9, $"edge-triggered: {n["edge_small_would_block_per_event"]} EAGAIN reads per event");
                Assert.True(n["level_large_events_per_message"] >= 2, $"level-triggered: {n["level_large_events_per_message"]} events per 4-buffer message");
                Assert.True(n["level_large_events_per_message"] > n["edge_large_events_per_message"]);
                Assert.Contains(DemoContext.F(n["level_large_events_per_message"]) + " events", result.Conclusion, StringComparison.Ordinal);
                break;
            case "uring-vs-epoll":
                Assert.Equal(32, n["epoll_bytes_in_per_message"]);
                Assert.Equal(32, n["uring_bytes_in_per_message"]);
                Assert.True(n["uring_syscalls_per_message"] < n["epoll_syscalls_per_message"], $"uring {n["uring_syscalls_per_message"]}, epoll {n["epoll_syscalls_per_message"]}");
                Assert.True(n["epoll_syscalls_per_message"] >= 2, $"epoll made {n["epoll_syscalls_per_message"]} counted system calls per message: a recv and a send at least");
                Assert.True(n["epoll_receives_per_message"] >= 1, $"epoll made {n["epoll_receives_per_message"]} recv calls per message");
                Assert.True(n["uring_receives_per_message"] < 0.5, $"uring submitted {n["uring_receives_per_message"]} receive requests per message: no multishot?");
                Assert.True(n["uring_completions_per_message"] >= 1, $"uring reaped {n["uring_completions_per_message"]} completions per message");
                Assert.Contains(DemoContext.F(n["epoll_syscalls_per_message"]) + " system calls", result.Conclusion, StringComparison.Ordinal);
                break;
            case "async-is-readiness":
                Assert.True(n["async_receives_per_message"] is >= 1.1 and <= 3, $"async made {n["async_receives_per_message"]} receive calls per message");
                Assert.True(n["uring_receives_per_message"] < 0.5, $"uring submitted {n["uring_receives_per_message"]} receive requests per message");
                Assert.True(n["async_pool_items_per_message"] > 2 * n["uring_pool_items_per_message"],
                    $"pool work items per message: async {n["async_pool_items_per_message"]}, uring {n["uring_pool_items_per_message"]}");
                Assert.Contains(DemoContext.F(n["async_receives_per_message"]) + " receive calls per message", result.Conclusion, StringComparison.Ordinal);
                break;
            case "pitfalls":
                // Each mistake measured in the copy of the notes' script, and not in the engine.
                Assert.True(n["a_notes_b_wait_s"] >= n["hold_s"] * 0.9, $"B waited {n["a_notes_b_wait_s"]} s behind a silent client held {n["hold_s"]} s");
                Assert.True(n["a_engine_b_wait_s"] < n["hold_s"] / 2, $"the engine made B wait {n["a_engine_b_wait_s"]} s");
                Assert.Equal((1.0, 0.0, 1.0), (n["b_notes_loop_died"], n["b_notes_other_served"], n["b_engine_other_served"]));
                Assert.Equal((0.0, 1.0, 1024.0), (n["c_notes_first_echoed"], n["c_notes_second_echoed"], n["c_notes_bytes_back"]));
                Assert.Equal(2048, n["c_engine_bytes_back"]);
                Assert.True(n["d_once_first_reply_bytes"] is > 0 and <= 1024, $"the read-once client's first reply was {n["d_once_first_reply_bytes"]} bytes");
                Assert.Equal((0.0, 1.0), (n["d_once_second_reply_is_its_echo"], n["d_whole_second_reply_is_its_echo"]));
                Assert.True(n["e_listen5_in_hold"] < n["crowd"], $"listen(5) held {n["e_listen5_in_hold"]} of {n["crowd"]}");
                Assert.Equal(n["crowd"], n["e_engine_in_hold"]);
                Assert.Contains($"listen(5) held {n["e_listen5_in_hold"]} of {n["crowd"]} connects", result.Conclusion, StringComparison.Ordinal);
                break;
            default:
                Assert.Fail($"no checks written for the {name} scenario");
                break;
        }
    }

    [SkippableTheory, MemberData(nameof(Scenarios))]
    public async Task Each_scenario_narrates_and_concludes_in_chinese_with_lang_zh(string name)
    {
        IDemoScenario scenario = DemoCatalog.Find(name)!;
        foreach (string model in scenario.Models)
        {
            Skip.IfNot(ModelRegistry.Find(model) is { IsSupported: true }, $"the {model} model cannot run in this build or on this OS");
        }

        var output = new StringWriter();
        DemoResult result = await DemoCommand.RunScenarioAsync(scenario, new DemoContext(output, SmallScale, "zh"), CancellationToken.None)
            .WithTimeout(TimeSpan.FromSeconds(60));
        // One narration step per stamp ("[  0.05s] ..."); the lines after it that start with spaces are
        // the same step wrapped to the projector's width.
        var steps = new List<string>();
        foreach (string line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith(' ') && steps.Count > 0)
            {
                steps[^1] += line.TrimStart();
            }
            else
            {
                steps.Add(line);
            }
        }

        Assert.NotEmpty(steps);
        Assert.All(steps, l => Assert.True(CjkCount(l) > 0, $"a narration step in English: {l}"));
        Assert.True(CjkCount(scenario.Title("zh")) > 5, scenario.Title("zh"));

        DemoResult failed = scenario.Judge(Contradict(name, result.Numbers), "zh");
        Assert.Null(failed.Conclusion);
        Assert.All(failed.Failures, f => Assert.True(CjkCount(f) > 0, $"an English failure: {f}"));

        Skip.If(result.Conclusion is null && name == "busy-poll", $"this machine's load hid the CPU difference: {string.Join("; ", result.Failures)}");
        Assert.True(result.Conclusion is not null, $"no conclusion: {string.Join("; ", result.Failures)}");
        Assert.True(CjkCount(result.Conclusion) > 40, result.Conclusion);
    }

    private static int CjkCount(string text) => text.Count(c => c is >= '\u4E00' and <= '\u9FFF');

    /// <summary>A run's numbers with the measurement each scenario's claim rests on made to fail.</summary>
    private static Dictionary<string, double> Contradict(string scenario, IReadOnlyDictionary<string, double> measured)
    {
        var n = new Dictionary<string, double>(measured);
        switch (scenario)
        {
            case "one-worker":
                n["b_wait_s"] = 0; // B answered while A still held the only worker
                break;
            case "pool-of-two":
                n["c_wait_s"] = 0;
                break;
            case "busy-poll":
                n["sleep_cpu_percent"] = n["spin_cpu_percent"]; // sleeping saved nothing
                break;
            case "select-vs-epoll":
                for (int i = 0; i < 3; i++)
                {
                    n[$"epoll_ready_per_wait_{i}"] = n[$"idle_clients_{i}"]; // epoll's events grew with the idle clients as select's scan did
                }

                break;
            case "threads-vs-async":
                n["async_engine_threads"] = n["clients"];
                break;
            case "edge-vs-level":
                n["edge_small_would_block_per_event"] = 0; // edge-triggered stopped reading before EAGAIN
                break;
            case "uring-vs-epoll":
                n["uring_receives_per_message"] = 1; // a receive request per message, as without multishot
                break;
            case "async-is-readiness":
                n["async_receives_per_message"] = 1; // async copied each message with no readiness wait
                break;
            case "pitfalls":
                n["c_notes_first_echoed"] = 1; // the notes' select script kept the first of two lines
                break;
            default:
                Assert.Fail($"no contradiction written for the {scenario} scenario");
                break;
        }

        return n;
    }

    /// <summary>A select-vs-epoll run like one measured on the 2-core test machine (100, 1,000, 5,000 idle clients).</summary>
    private static Dictionary<string, double> SelectVsEpollRun()
    {
        var n = new Dictionary<string, double> { ["round_trips"] = 500 };
        double[] idle = [100, 1000, 5000];
        double[] selectCpu = [174, 1257, 6410];
        double[] epollCpu = [80, 108, 44];
        for (int i = 0; i < idle.Length; i++)
        {
            n[$"idle_clients_{i}"] = idle[i];
            n[$"select_waits_{i}"] = 1000;
            n[$"select_scanned_per_wait_{i}"] = idle[i] + 2; // the idle clients, the busy one and the listener
            n[$"select_ready_per_wait_{i}"] = 1;
            n[$"select_round_trip_us_{i}"] = selectCpu[i] * 0.8;
            n[$"select_cpu_us_per_round_trip_{i}"] = selectCpu[i];
            n[$"epoll_waits_{i}"] = 500;
            n[$"epoll_scanned_per_wait_{i}"] = 0;
            n[$"epoll_ready_per_wait_{i}"] = 1;
            n[$"epoll_round_trip_us_{i}"] = 40;
            n[$"epoll_cpu_us_per_round_trip_{i}"] = epollCpu[i];
        }

        return n;
    }

    [Fact]
    public void Select_vs_epoll_concludes_from_the_slopes_and_says_cpu_only_when_the_run_separated_it()
    {
        IDemoScenario scenario = DemoCatalog.Find("select-vs-epoll")!;
        DemoResult result = scenario.Judge(SelectVsEpollRun());
        Assert.True(result.Conclusion is not null, string.Join("; ", result.Failures));
        Assert.Contains("102, 1002 and 5002 sockets scanned per wait with 100, 1000 and 5000 idle clients, +1000 per 1,000 idle clients", result.Conclusion, StringComparison.Ordinal);
        Assert.Contains("events per wait: 0 per 1,000 idle clients", result.Conclusion, StringComparison.Ordinal);
        Assert.Contains("CPU per round trip changed by +1277.4 µs per 1,000 idle clients with select and by -10 µs", result.Conclusion, StringComparison.Ordinal);
        Assert.Equal(1000, result.Numbers["select_scanned_per_wait_per_1000"], 6);

        Dictionary<string, double> blurred = SelectVsEpollRun();
        for (int i = 0; i < 3; i++)
        {
            blurred[$"epoll_cpu_us_per_round_trip_{i}"] = blurred[$"select_cpu_us_per_round_trip_{i}"];
        }

        string? conclusion = scenario.Judge(blurred).Conclusion;
        Assert.NotNull(conclusion);
        Assert.Contains("so this run concludes nothing about CPU", conclusion, StringComparison.Ordinal);
        Assert.DoesNotContain("changed by", conclusion, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("select's scan did not grow")]
    [InlineData("epoll's events grew like select's scan")]
    [InlineData("two sizes were the same")]
    [InlineData("epoll never waited at one size")]
    [InlineData("select skipped idle sockets")]
    public void Select_vs_epoll_concludes_nothing_when_a_measurement_fails(string failure)
    {
        Dictionary<string, double> n = SelectVsEpollRun();
        switch (failure)
        {
            case "select's scan did not grow":
                n["select_scanned_per_wait_0"] = n["select_scanned_per_wait_1"] = n["select_scanned_per_wait_2"];
                break;
            case "epoll's events grew like select's scan":
                n["epoll_ready_per_wait_0"] = 100;
                n["epoll_ready_per_wait_1"] = 1000;
                n["epoll_ready_per_wait_2"] = 4000;
                break;
            case "two sizes were the same":
                n["idle_clients_2"] = n["idle_clients_1"];
                break;
            case "epoll never waited at one size":
                n["epoll_waits_1"] = 0;
                break;
            case "select skipped idle sockets":
                n["select_scanned_per_wait_2"] = 4000;
                break;
        }

        DemoResult result = DemoCatalog.Find("select-vs-epoll")!.Judge(n);
        Assert.Null(result.Conclusion);
        Assert.NotEmpty(result.Failures);
    }

    [Theory]
    [InlineData("uring-vs-epoll", "bytes miscounted")]
    [InlineData("uring-vs-epoll", "epoll missed a recv")]
    [InlineData("uring-vs-epoll", "uring posted a receive per message")]
    [InlineData("uring-vs-epoll", "uring saved no system call")]
    [InlineData("async-is-readiness", "bytes miscounted")]
    [InlineData("async-is-readiness", "async received once per message")]
    [InlineData("async-is-readiness", "uring posted a receive per message")]
    [InlineData("async-is-readiness", "no hand-over")]
    public void A_receive_counting_demo_concludes_nothing_when_any_of_its_claims_fails(string demo, string failure)
    {
        Dictionary<string, double> n = ReceiveCountingRun();
        Assert.NotNull(DemoCatalog.Find(demo)!.Judge(n).Conclusion); // the run as measured concludes
        switch (failure)
        {
            case "bytes miscounted":
                n["uring_bytes_in_per_message"] = 31;
                break;
            case "epoll missed a recv":
                n["epoll_receives_per_message"] = 0.9;
                break;
            case "uring posted a receive per message":
                n["uring_receives_per_message"] = 1;
                break;
            case "uring saved no system call":
                n["uring_syscalls_per_message"] = n["epoll_syscalls_per_message"];
                break;
            case "async received once per message":
                n["async_receives_per_message"] = 1.05;
                break;
            case "no hand-over":
                n["async_pool_items_per_message"] = n["uring_pool_items_per_message"];
                break;
        }

        foreach (string language in new[] { "en", "zh" })
        {
            DemoResult result = DemoCatalog.Find(demo)!.Judge(n, language);
            Assert.Null(result.Conclusion);
            Assert.NotEmpty(result.Failures);
        }
    }

    /// <summary>uring-vs-epoll and async-is-readiness runs like those measured on the 2-core test machine at --scale 0.05.</summary>
    private static Dictionary<string, double> ReceiveCountingRun() => new()
    {
        ["clients"] = 4, ["messages"] = 80,
        ["epoll_bytes_in_per_message"] = 32, ["epoll_waits_per_message"] = 0.99, ["epoll_receives_per_message"] = 1,
        ["epoll_sends_per_message"] = 1, ["epoll_submissions_per_message"] = 0, ["epoll_completions_per_message"] = 0,
        ["epoll_pool_items_per_message"] = 0.01, ["epoll_requests_per_wait"] = 0, ["epoll_syscalls_per_message"] = 2.99,
        ["uring_bytes_in_per_message"] = 32, ["uring_waits_per_message"] = 1.56, ["uring_receives_per_message"] = 0,
        ["uring_sends_per_message"] = 1, ["uring_submissions_per_message"] = 1, ["uring_completions_per_message"] = 2,
        ["uring_would_block_per_message"] = 0, ["uring_pool_items_per_message"] = 0.05, ["uring_requests_per_wait"] = 0.64,
        ["uring_syscalls_per_message"] = 1.56,
        ["async_bytes_in_per_message"] = 32, ["async_receives_per_message"] = 1.35, ["async_completions_per_message"] = 0.28,
        ["async_would_block_per_message"] = 0.07, ["async_pool_items_per_message"] = 0.29, ["async_requests_per_wait"] = 0,
    };

    [Theory]
    [InlineData(false, false, null, true)]
    [InlineData(false, false, "", true)]
    [InlineData(true, false, null, false)]
    [InlineData(false, true, null, false)]
    [InlineData(false, false, "true", false)]
    public void A_demo_waits_for_enter_only_at_a_terminal_outside_ci(bool inputRedirected, bool outputRedirected, string? ci, bool waits)
    {
        Assert.Equal(waits, DemoCommand.WaitsForEnter(inputRedirected, outputRedirected, ci));
    }

    [Theory]
    [InlineData("en")]
    [InlineData("zh")]
    public void Every_demo_asks_first_and_says_how_to_watch_it_with_the_os(string language)
    {
        var context = new DemoContext(TextWriter.Null, SmallScale, language);
        foreach (IDemoScenario scenario in DemoCatalog.All)
        {
            string question = scenario.Question(context);
            Assert.EndsWith("?", question.Replace('？', '?'), StringComparison.Ordinal);
            Assert.True(language == "zh" ? CjkCount(question) > 10 : CjkCount(question) == 0, question);
            IReadOnlyList<string> verify = scenario.Verify(4242, language);
            Assert.NotEmpty(verify);
            Assert.All(verify, line => Assert.Matches(@"^(watch|strace|grep|top|ls|nstat|ss) ", line));
            Assert.Contains(verify, line => line.Contains("4242", StringComparison.Ordinal) || line.Contains("ss -lnt", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_demo_pauses_after_its_question_until_enter_when_given_a_terminal()
    {
        var output = new StringWriter();
        var enter = new StringReader(Environment.NewLine);
        int exitCode = await DemoCommand.RunAsync("one-worker", SmallScale, output, CancellationToken.None, "en", enter).WithTimeout(TimeSpan.FromSeconds(60));
        string text = output.ToString();
        Assert.Equal(0, exitCode);
        int asked = text.IndexOf("Predict: ", StringComparison.Ordinal);
        int paused = text.IndexOf("Press Enter to run it.", StringComparison.Ordinal);
        int ran = text.IndexOf("A blocking server with --workers 1", StringComparison.Ordinal);
        int answered = text.IndexOf("Answer (measured): ", StringComparison.Ordinal);
        Assert.True(asked >= 0 && asked < paused && paused < ran && ran < answered, text);
        Assert.Equal(-1, enter.Peek()); // the Enter was read
    }

    [Fact]
    public void A_scenario_needing_an_engine_this_build_lacks_fails_with_one_line()
    {
        CliException error = Assert.Throws<CliException>(() => DemoContext.RequireModel("carrier-pigeon"));
        Assert.Equal(ExitCode.ModelUnavailable, error.ExitCode);
        Assert.Equal("the carrier-pigeon model is not in this build", error.Message);
    }

    /// <summary>Every line of a demo's output fits 100 columns (Chinese counted two per character), except the commands to copy.</summary>
    private static void AssertFitsTheProjector(string stdout)
    {
        foreach (string line in stdout.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            bool command = System.Text.RegularExpressions.Regex.IsMatch(line, @"^  (watch|strace|grep|top|ls|nstat|ss) ");
            Assert.True(command || TerminalText.Width(line) <= TerminalText.ProjectorWidth, $"{TerminalText.Width(line)} columns: {line}");
        }
    }

    [Fact]
    public async Task The_executable_lists_runs_and_refuses_demos()
    {
        (int exitCode, string stdout, string stderr) = await CliProcess.RunAsync(null, "demo");
        Assert.True(exitCode == 0, stderr);
        Assert.All(DemoCatalog.All, d => Assert.Contains(d.Name, stdout, StringComparison.Ordinal));

        (exitCode, stdout, stderr) = await CliProcess.RunAsync(null, "demo", "one-worker", "--scale", "0.05");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("Conclusion: With one worker, B waited ", stdout, StringComparison.Ordinal);

        // Predict, then measure; stdin is not a terminal here, so the demo must not wait for Enter.
        Assert.Contains("Predict: One worker thread.", stdout, StringComparison.Ordinal);
        Assert.Contains("Answer (measured): B waited ", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Press Enter", stdout, StringComparison.Ordinal);
        AssertFitsTheProjector(stdout);

        (exitCode, stdout, stderr) = await CliProcess.RunAsync(null, "demo", "one-worker", "--scale", "0.05", "--lang", "zh");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("结论：只有一个工作线程时，B 为一次回显等了 ", stdout, StringComparison.Ordinal);
        AssertFitsTheProjector(stdout);

        (exitCode, _, stderr) = await CliProcess.RunAsync(null, "demo", "one-worker", "--lang", "fr");
        Assert.Equal(2, exitCode);
        Assert.Contains("--lang must be en or zh, not 'fr'", stderr, StringComparison.Ordinal);

        (exitCode, _, stderr) = await CliProcess.RunAsync(null, "demo", "teleport");
        Assert.Equal(2, exitCode);
        Assert.StartsWith("iomodels: unknown scenario 'teleport'; the scenarios are: one-worker, pool-of-two", stderr.Trim(), StringComparison.Ordinal);

        (exitCode, _, stderr) = await CliProcess.RunAsync(null, "demo", "one-worker", "--scale", "0");
        Assert.Equal(2, exitCode);
        Assert.Contains("--scale must be a number above 0 and at most 1", stderr, StringComparison.Ordinal);
    }
}
