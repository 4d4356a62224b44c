namespace IoModels;

/// <summary>The most units of an option the process can have, and why: the limit that binds first.</summary>
/// <param name="Max">The most units; 0 when the limit is already reached.</param>
/// <param name="Source">Where the bound comes from, as a reader checks it, e.g. "vm.max_map_count 65530 at about 4 mappings per thread, 412 in use".</param>
public readonly record struct UnitBound(long Max, string Source);
