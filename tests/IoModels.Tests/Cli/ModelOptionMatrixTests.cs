using System.CommandLine;
using IoModels.Cli;
using IoModels.Cli.Bench;
using IoModels.Cli.Commands;

namespace IoModels.Tests.Cli;

/// <summary>
/// Every model against every model-specific option, both read from the registry: serve's parser (and
/// bench, which parses its entries with it) refuses an option the model does not take, in one line
/// naming the models that do, and accepts the ones it declares, which then reach the engine.
/// </summary>
public sealed class ModelOptionMatrixTests
{
    public static TheoryData<string, string> Matrix
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (ModelInfo model in ModelRegistry.All)
            {
                foreach (EngineOption option in EngineOption.All)
                {
                    data.Add(model.Name, option.Name);
                }
            }

            return data;
        }
    }

    [Theory, MemberData(nameof(Matrix))]
    public async Task Serve_refuses_an_option_the_model_does_not_take_and_accepts_its_own(string modelName, string optionName)
    {
        ModelInfo model = ModelRegistry.Find(modelName)!;
        EngineOption option = EngineOption.All.Single(o => o.Name == optionName);
        string[] args = ["--model", model.Name, "--port", "0", .. SampleArguments(option)];

        ParseResult parsed = ServeCommand.Create().Parse(args);
        if (model.Takes(option))
        {
            Assert.Empty(parsed.Errors);
            ServeSettings settings = await ParsedSettingsAsync(args);
            EchoServerOptions options = ServeCommand.ToOptions(settings, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), Serilog.Core.Logger.None, model);
            Assert.True(option.IsSetIn(options) || option == EngineOption.InlineCompletions, $"{option.Name} did not reach the engine's options");
            if (model.IsSupported)
            {
                await using IEchoServer engine = model.Create(options); // made, not started: the library accepts it too
            }
        }
        else
        {
            string error = Assert.Single(parsed.Errors).Message;
            Assert.Equal($"{ModelFlags.FlagName(option)} applies to --model {ModelRegistry.NamesTaking(option)} only; the {model.Name} model does not take it", error);
            Assert.All(ModelRegistry.All.Where(m => m.Takes(option)), m => Assert.Contains(m.Name, error, StringComparison.Ordinal));

            // The worker, called without the parser (settings a taker's parse produced), refuses it too.
            ModelInfo taker = ModelRegistry.All.First(m => m.Takes(option));
            ServeSettings settings = await ParsedSettingsAsync(["--model", taker.Name, .. SampleArguments(option)]) with { Model = model.Name };
            CliException refused = Assert.Throws<CliException>(() => ServeCommand.ToOptions(settings, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), Serilog.Core.Logger.None, model));
            Assert.Equal(ExitCode.UsageError, refused.ExitCode);
            Assert.StartsWith($"{ModelFlags.FlagName(option)} applies to ", refused.Message, StringComparison.Ordinal);
            Assert.EndsWith($"the {model.Name} model does not take it", refused.Message, StringComparison.Ordinal);
        }
    }

    [SkippableTheory, MemberData(nameof(Matrix))]
    public void A_bench_entry_refuses_the_same_before_any_server_starts(string modelName, string optionName)
    {
        ModelInfo model = ModelRegistry.Find(modelName)!;
        Skip.IfNot(model.IsSupported, $"{model.Name} is not available here");
        EngineOption option = EngineOption.All.Single(o => o.Name == optionName);
        string entry = string.Join(' ', [model.Name, .. SampleArguments(option)]);
        if (model.Takes(option))
        {
            Assert.Equal(entry, BenchServer.Parse(entry).Label);
        }
        else
        {
            CliException refused = Assert.Throws<CliException>(() => BenchServer.Parse(entry));
            Assert.Equal(ExitCode.UsageError, refused.ExitCode);
            Assert.Equal($"--model '{entry}': {ModelFlags.Refusal(option, model)}", refused.Message);
        }
    }

    [SkippableFact]
    public void The_library_refuses_an_option_set_for_a_model_that_does_not_read_it()
    {
        ModelInfo epoll = ModelRegistry.Find("epoll")!;
        Skip.IfNot(epoll.IsSupported, "epoll is not available here");
        ArgumentException error = Assert.Throws<ArgumentException>(() => epoll.Create(new EchoServerOptions { Workers = 4 }));
        Assert.Equal(nameof(EchoServerOptions.Workers), error.ParamName);
        Assert.StartsWith("Workers applies to the blocking model only; the epoll model does not take it.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A value other than the default, in the option's own kind.</summary>
    private static string[] SampleArguments(EngineOption option) => option.Kind switch
    {
        EngineOptionKind.Count => [ModelFlags.FlagName(option), (option.Minimum + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)],
        EngineOptionKind.Duration => [ModelFlags.FlagName(option), "5ms"],
        _ => [ModelFlags.FlagName(option)],
    };

    /// <summary>What serve's parser hands its worker for <paramref name="args"/>.</summary>
    private static async Task<ServeSettings> ParsedSettingsAsync(string[] args)
    {
        ServeSettings? captured = null;
        Command serve = ServeCommand.Create((settings, _, _, _) =>
        {
            captured = settings;
            return Task.FromResult(0);
        });
        Assert.Equal(0, await serve.Parse(args).InvokeAsync());
        Assert.NotNull(captured);
        return captured;
    }
}
