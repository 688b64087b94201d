using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tracker;

/// <summary>
/// A node that has just started (or restarted) does not yet know the other tracker nodes: until
/// it is Up and their registries have answered its Hello, its view holds only itself, so it
/// would own every partition and answer announces with no backup. A kill -9 in that window
/// loses answered announces (the Lab's <c>tracker-kill</c> found it: 84 answers lost after a
/// restart). So announces wait here until the first complete view, in arrival order, and are
/// refused as unavailable (clients retry) when it takes longer than <c>forward-timeout</c>.
/// Later view changes do not hold anything: from then on the node answers from the view it has,
/// as the placement and the handovers expect.
/// </summary>
public sealed partial class SwarmRegistry
{
    /// <summary>
    /// Members with the cluster role <c>tracker</c>: each runs a registry, so a view without it is
    /// not complete. (Other members may run one too, under <c>actors web --tracker</c>: they join
    /// the view when they answer, but are not waited for.)
    /// </summary>
    private readonly HashSet<Address> _trackerMembers = [];
    private bool _settled;
    private readonly long _startedAt = NowMs();

    /// <summary>
    /// Settled once this node is Up and every reachable Up tracker member is in the view
    /// (or was greeted <see cref="MaxGreetings"/> times without an answer: it runs no registry).
    /// </summary>
    private void Settle()
    {
        if (_members.GetValueOrDefault(_self, MemberStatus.Joining) != MemberStatus.Up) return;
        foreach (var address in _trackerMembers)
            if (!address.Equals(_self) && _members.GetValueOrDefault(address) == MemberStatus.Up && !_unreachable.Contains(address)
                && !_registries.ContainsKey(address) && _greetings.GetValueOrDefault(address) < MaxGreetings)
                return;
        _settled = true;
        _log.Info("Tracker view settled after {0} ms with {1} node(s); answering {2} announces held meanwhile",
            NowMs() - _startedAt, _placement.Nodes.Count, _held.Count);
        while (_held.TryDequeue(out var held)) Route(held.Request, held.ReplyTo, held.Correlation);
    }

    private void Hold(Announce announce)
    {
        if (_held.Count == 0) _log.Info("Holding announces until this node's tracker view is complete");
        _held.Enqueue(new HeldAnnounce(announce.Request, Sender, announce.Correlation, NowMs()));
    }

    private void ExpireHeld(long now)
    {
        var refused = 0;
        while (_held.TryPeek(out var held) && now - held.At > (long)_settings.ForwardTimeout.TotalMilliseconds)
        {
            _held.Dequeue();
            held.ReplyTo.Tell(new AnnounceFailed(UnavailableReason, held.Correlation));
            refused++;
        }
        if (refused > 0)
            _log.Warning("Refused {0} announces: this node's tracker view is not complete after {1} (not Up, or a tracker node did not answer)",
                refused, _settings.ForwardTimeout);
    }

    private sealed record HeldAnnounce(AnnounceRequest Request, IActorRef ReplyTo, object? Correlation, long At);
}
