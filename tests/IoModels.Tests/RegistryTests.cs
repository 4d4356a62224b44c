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
    public void Options_out_of_range_are_rejected_with_the_option_name()
    {
        var bad = new EchoServerOptions { OutputBufferLimit = 10, BufferSize = 100 };
        ArgumentException error = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.Contains("--output-buffer", error.Message, StringComparison.Ordinal);
    }
}
