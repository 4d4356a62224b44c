using System.Net.Sockets;

namespace IoModels.Async;

/// <summary>Accepting: an awaited accept in a loop, under the shared <see cref="AcceptPolicy"/>; each client gets its own flow.</summary>
public sealed partial class AsyncEchoServer
{
    private async Task AcceptLoopAsync(Socket listener)
    {
        // Nothing observes this task until stop, so it must not fault silently.
        try
        {
            using var accept = new SocketAwaitableEventArgs();
            AcceptPolicy acceptPolicy = CreateAcceptPolicy(listener); // the runtime needs descriptors to start pool threads
            while (!Stopping)
            {
                AcceptDecision decision = acceptPolicy.BeforeAccept();
                if (decision.Step == AcceptStep.Done)
                {
                    SocketResult result = await accept.AcceptAsync(listener);
                    if (result.Succeeded)
                    {
                        acceptPolicy.Accepted();
                        Adopt(accept.AcceptSocket!);
                        continue;
                    }

                    decision = acceptPolicy.Failed(result.Error);
                }

                if (decision.Step == AcceptStep.Stop)
                {
                    return;
                }

                if (decision.Step == AcceptStep.Pause)
                {
                    await Task.Delay(decision.Delay); // the clients stay queued in the kernel meanwhile
                }
            }
        }
        catch (Exception exception) when (Stopping && SocketErrors.IsAborted(exception))
        {
            // Expected: stop closed the listener between the Stopping check and the accept call.
        }
        catch (Exception exception)
        {
            ReportFault(exception); // a bug: counted in Faults and logged; accepting ends
        }
    }

    /// <summary>Counts an accepted client in (or refuses it over the limit) and starts its flow, which nothing awaits.</summary>
    private void Adopt(Socket client)
    {
        long id = Admit(client);
        if (id != 0)
        {
            Interlocked.Increment(ref _serving);
            _ = ServeAsync(client, id); // never faults: ServeAsync reports its own bugs, and stop waits on _serving
        }
    }
}
