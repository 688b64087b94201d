using System.Runtime.InteropServices;

namespace Actors.Lab.Experiments;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM cancel a run instead of ending the process. The runtime's default
/// would end it at once, without disposing anything, so the nodes, load processes and network
/// namespaces a run started would outlive it; cancelled, each runner stops what it started and
/// writes what it has.
/// </summary>
public sealed class SignalCancellation : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;

    public SignalCancellation(CancellationToken outer, TextWriter log, string what)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we end ourselves, once everything is stopped
            log.WriteLine($"{what}: {context.Signal}: stopping and tearing everything down");
            _stop.Cancel();
        }
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _stop.Token;

    public bool Signalled => _stop.IsCancellationRequested;

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _stop.Dispose();
    }
}
