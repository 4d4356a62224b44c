namespace IoModels;

/// <summary>One limit on a resource: how many more the process can have now, and where that number comes from.</summary>
/// <param name="Resource">What is limited.</param>
/// <param name="Available">How many more can be created, at most (others may take some first); never negative.</param>
/// <param name="Source">The limit and what is already used, e.g. "RLIMIT_NOFILE (ulimit -n) 1024, 74 open".</param>
public sealed record ProcessLimit(ProcessResource Resource, long Available, string Source);
