using System.Runtime.InteropServices;

namespace IoModels.Cli;

/// <summary>
/// Maps Ctrl+C and SIGTERM to cancellation: the first asks the running command to stop gracefully,
/// a second one ends the process at once with exit code 130.
/// </summary>
internal sealed class ProcessTermination : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

    public ProcessTermination()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    public CancellationToken Token => _cancellation.Token;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // we decide how to stop, not the default handler
        if (Interlocked.Increment(ref _signals) == 1)
        {
            _cancellation.Cancel();
        }
        else
        {
            Console.Error.WriteLine("iomodels: forced to stop");
            Environment.Exit((int)ExitCode.Interrupted);
        }
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }

        _cancellation.Dispose();
    }
}
