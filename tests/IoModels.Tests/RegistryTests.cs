namespace IoModels.Tests;

public sealed class RegistryTests
{
    [Fact]
    public void Names_are_unique_lowercase_and_the_default_exists_and_runs_here()
    {
        Assert.Equal(ModelRegistry.All.Count, ModelRegistry.All.Select(m => m.Name).Distinct().Count());
        Assert.All(ModelRegistry.All, m => Assert.Equal(m.Name.ToLowerInvariant(), m.Name));
        ModelInfo? fallback = ModelRegistry.Find(ModelRegistry.DefaultModel);
        Assert.NotNull(fallback);
        Assert.True(fallback.IsSupported);
    }

    [Fact]
    public void Lookup_ignores_case_and_unknown_names_are_null()
    {
        Assert.Same(ModelRegistry.Find("blocking"), ModelRegistry.Find("BLOCKING"));
        Assert.Null(ModelRegistry.Find("carrier-pigeon"));
    }

    [Fact]
    public void Every_model_names_the_counters_that_show_its_cost()
    {
        Assert.All(ModelRegistry.All, m => Assert.NotEmpty(m.KeyCounters));
    }

    [Fact]
    public void A_model_this_machine_runs_declares_this_os_and_a_kernel_it_has()
    {
        string here = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "macOS"
            : OperatingSystem.IsFreeBSD() ? "FreeBSD" : OperatingSystem.IsWindows() ? "Windows" : "another OS";
        foreach (ModelInfo model in ModelRegistry.All.Where(m => m.IsSupported))
        {
            Assert.True(model.Platforms.Contains(here), $"{model.Name} runs here but declares only {string.Join(", ", model.Platforms)}");
            Assert.True(model.MinimumKernel is null || Environment.OSVersion.Version >= model.MinimumKernel,
                $"{model.Name} runs on kernel {Environment.OSVersion.Version} but declares {model.MinimumKernel} as its oldest");
        }
    }

    [Fact]
    public void A_model_available_here_is_built_for_this_OS_and_the_rest_say_why_not()
    {
        Assert.All(ModelRegistry.All, m =>
        {
            Assert.NotEmpty(m.Platforms);
            Assert.True(!m.IsSupported || m.Platforms.Any(OperatingSystem.IsOSPlatform), $"{m.Name} runs here but does not list this OS");
            Assert.True(m.IsSupported || !string.IsNullOrEmpty(m.UnsupportedReason), m.Name);
        });
    }

    [Fact]
    public void Clients_served_at_once_are_the_connection_limit_or_what_the_model_itself_allows()
    {
        var options = new EchoServerOptions { MaxConnections = 100_000 };
        Assert.Equal(8, ModelRegistry.Find("blocking")!.MaxClients(options with { Workers = 8 }));
        Assert.Equal(100_000, ModelRegistry.Find("blocking")!.MaxClients(options));
        Assert.Equal(65_535, ModelRegistry.Find("select")!.MaxClients(options)); // one list of 65,536 holds the listener too
        Assert.Equal(3, ModelRegistry.Find("async")!.MaxClients(options with { MaxConnections = 3 }));
    }

    [Fact]
    public void Every_option_some_model_takes_is_declared_and_every_declared_option_is_taken()
    {
        Assert.All(ModelRegistry.All.SelectMany(m => m.Options), o => Assert.Contains(o, EngineOption.All));
        Assert.All(EngineOption.All, o => Assert.Contains(ModelRegistry.All, m => m.Takes(o)));
    }

    [Fact]
    public void The_registry_texts_name_no_command_line_flags()
    {
        // A front end spells options its own way (serve's --workers); the library names the concept.
        Assert.All(ModelRegistry.All, m => Assert.DoesNotContain("--", m.Summary, StringComparison.Ordinal));
        Assert.All(EngineOption.All, o => Assert.DoesNotContain("--", o.Description, StringComparison.Ordinal));
    }

    [Fact]
    public void Options_out_of_range_are_rejected_naming_the_property_and_no_command_line_flag()
    {
        var bad = new EchoServerOptions { OutputBufferLimit = 10, BufferSize = 100 };
        ArgumentException error = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.Equal(nameof(EchoServerOptions.OutputBufferLimit), error.ParamName);
        Assert.StartsWith("OutputBufferLimit must be at least BufferSize.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", error.Message, StringComparison.Ordinal);
    }
}
