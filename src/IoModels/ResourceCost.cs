namespace IoModels;

/// <summary>
/// What one unit of an <see cref="EngineOption"/> creates that the process has only so many of:
/// threads, descriptors, and memory mappings beyond each thread's own (<see cref="ProcessLimits.MappingsPerThread"/>).
/// </summary>
public readonly record struct ResourceCost(int Threads = 0, int Descriptors = 0, int Mappings = 0);
