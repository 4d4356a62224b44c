using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

namespace IoModels.Cli.Commands;

/// <summary>
/// The flags of the options only some models take, built from the registry: one flag per
/// <see cref="EngineOption"/> a model declares, its help saying which models take it, and a check that
/// refuses it for a model that does not (one line naming the models that do, exit 2). Because the check
/// is part of serve's parser, <c>bench --model 'M OPTIONS'</c>, which parses with it, refuses the same.
/// </summary>
internal sealed class ModelFlags
{
    private readonly Dictionary<EngineOption, Option> _flags;

    public ModelFlags()
    {
        _flags = EngineOption.All.Where(o => ModelRegistry.All.Any(m => m.Takes(o))).ToDictionary(o => o, CreateFlag);
    }

    /// <summary>The flags, in <see cref="EngineOption.All"/> order, to add to the command.</summary>
    public IEnumerable<Option> All => EngineOption.All.Where(_flags.ContainsKey).Select(o => _flags[o]);

    /// <summary>The flag for <paramref name="option"/>: its name in kebab case, <c>Workers</c> as <c>--workers</c>.</summary>
    public static string FlagName(EngineOption option)
    {
        ArgumentNullException.ThrowIfNull(option);
        var name = new StringBuilder("-");
        foreach (char c in option.Name)
        {
            name.Append(char.IsUpper(c) ? "-" : string.Empty).Append(char.ToLowerInvariant(c));
        }

        return name.ToString();
    }

    public int Count(ParseResult result, EngineOption option) => result.GetValue((Option<int>)_flags[option]);

    public TimeSpan Duration(ParseResult result, EngineOption option) =>
        result.GetValue((Option<TimeSpan?>)_flags[option]) ?? (TimeSpan)option.DefaultValue!;

    public bool Switch(ParseResult result, EngineOption option) => result.GetValue((Option<bool>)_flags[option]);

    /// <summary>
    /// Makes <paramref name="command"/> refuse a flag given for a model that does not take it, and a count
    /// (workers, loops) beyond what this process can have (<see cref="ProcessLimits"/>), before anything starts.
    /// </summary>
    public void Validate(Command command, Option<string> model) => command.Validators.Add(result =>
    {
        if (ModelRegistry.Find(result.GetValue(model) ?? string.Empty) is not { } chosen)
        {
            return; // an unknown model gets its own line when serve resolves it
        }

        ProcessLimits? limits = null;
        foreach ((EngineOption option, Option flag) in _flags)
        {
            if (result.GetResult(flag) is not OptionResult { Implicit: false } given)
            {
                continue;
            }

            if (!chosen.Takes(option))
            {
                result.AddError(Refusal(option, chosen));
            }
            else if (option.PerUnit is not null && InRange(given, option) is { } value)
            {
                limits ??= ProcessLimits.Read();
                if (option.BeyondLimit(value, limits) is { } beyond)
                {
                    result.AddError($"{FlagName(option)} {value} {beyond}");
                }
            }
        }
    });

    /// <summary>The count given, or null when it is not a number in the option's fixed range (its own parser says so).</summary>
    private static int? InRange(OptionResult given, EngineOption option) =>
        given.Tokens.Count > 0 && int.TryParse(given.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) &&
        value >= option.Minimum && value <= option.Maximum ? value : null;

    /// <summary>The line for <paramref name="option"/> given to <paramref name="chosen"/>: "--workers applies to --model blocking only; the epoll model does not take it".</summary>
    public static string Refusal(EngineOption option, ModelInfo chosen) =>
        $"{FlagName(option)} applies to --model {ModelRegistry.NamesTaking(option)} only; the {chosen.Name} model does not take it";

    private static Option CreateFlag(EngineOption option)
    {
        string flag = FlagName(option);
        string description = $"{string.Join(", ", ModelRegistry.All.Where(m => m.Takes(option)).Select(m => m.Name))}: {option.Description}";
        return option.Kind switch
        {
            EngineOptionKind.Count => CommonOptions.Int(flag, description, (int)option.DefaultValue!, option.Minimum, option.Maximum),
            EngineOptionKind.Duration => CommonOptions.Duration(flag, description, (TimeSpan?)option.DefaultValue, option.AllowsZero),
            _ => new Option<bool>(flag) { Description = description },
        };
    }
}
