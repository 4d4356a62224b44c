namespace IoModels.Cli;

/// <summary>
/// The start-up check of <c>serve</c> against the process's descriptor limit (<c>ulimit -n</c>): below
/// <see cref="DescriptorHeadroom.MinimumLimit"/> the runtime cannot even finish starting (it fails to
/// load its own assemblies or open the console, with a stack trace), so refuse first, in one line.
/// </summary>
internal static class DescriptorLimit
{
    /// <exception cref="CliException">The limit is too small to serve under (<see cref="ExitCode.CannotListen"/>).</exception>
    public static void EnsureEnoughToServe()
    {
        long limit = DescriptorHeadroom.OpenFilesLimit();
        if (limit is > 0 and < DescriptorHeadroom.MinimumLimit)
        {
            throw new CliException(ExitCode.CannotListen,
                $"the open-files limit is {limit}, too few to serve: the runtime holds about {DescriptorHeadroom.RuntimeNeed} itself and keeps " +
                $"{DescriptorHeadroom.MinReserve} free; raise it to at least {DescriptorHeadroom.MinimumLimit} (ulimit -n {DescriptorHeadroom.MinimumLimit}, or more for clients)");
        }
    }
}
