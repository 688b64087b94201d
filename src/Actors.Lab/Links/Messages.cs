namespace Actors.Lab.Links;

// The LinkManager's protocol. Every request is answered by exactly one message to its sender:
// a LinkStatus / LinkList / LinkRemoved on success, LinkError (with a one-line reason) otherwise.
// They may cross nodes (a lab asking another machine's LinkManager): ILinkMessage binds them to
// LinksSerializer (JSON, stable manifests) in config/cluster.conf.

/// <summary>Marks the link messages; bound to <see cref="LinksSerializer"/>.</summary>
public interface ILinkMessage;

/// <summary>Start a link: listen on <paramref name="Listen"/> ("HOST:PORT", port 0 picks one) and forward every connection to <paramref name="Target"/> ("HOST:PORT"). Answered with <see cref="LinkStatus"/> once listening (its <c>Listen</c> has the bound port) or <see cref="LinkError"/>.</summary>
public sealed record AddLink(string Name, string Listen, string Target) : ILinkMessage;

/// <summary>Stop a link: unbind and reset its open connections. Answered with <see cref="LinkRemoved"/> or <see cref="LinkError"/>.</summary>
public sealed record RemoveLink(string Name) : ILinkMessage;
public sealed record LinkRemoved(string Name) : ILinkMessage;

/// <summary>Answered with <see cref="LinkList"/> (ordered by name).</summary>
public sealed class ListLinks : ILinkMessage
{
    public static readonly ListLinks Instance = new();
    private ListLinks() { }
}
public sealed record LinkList(IReadOnlyList<LinkStatus> Links) : ILinkMessage;

/// <summary>Answered with <see cref="LinkStatus"/> or <see cref="LinkError"/>.</summary>
public sealed record GetLink(string Name) : ILinkMessage;

/// <summary>
/// Put a toxic on a link; it reaches every open connection at once and every later one. A toxic
/// with the same name already on the link is replaced. Answered with the updated <see cref="LinkStatus"/> or <see cref="LinkError"/>.
/// Build the toxic with <see cref="Toxic.Create"/> (Toxiproxy's names) or directly from <see cref="ToxicKind"/>.
/// </summary>
public sealed record AddToxic(string Link, Toxic Toxic) : ILinkMessage;

/// <summary>Take one toxic off a link (live connections recover at once). Answered with <see cref="LinkStatus"/> or <see cref="LinkError"/>.</summary>
public sealed record RemoveToxic(string Link, string ToxicName) : ILinkMessage;

/// <summary>Take every toxic off one link. Answered with <see cref="LinkStatus"/> or <see cref="LinkError"/>.</summary>
public sealed record ClearToxics(string Link) : ILinkMessage;

/// <summary>Take every toxic off every link (Toxiproxy's reset). Answered with <see cref="LinkList"/>.</summary>
public sealed class ResetLinks : ILinkMessage
{
    public static readonly ResetLinks Instance = new();
    private ResetLinks() { }
}

/// <summary>A request failed; nothing changed. <paramref name="Reason"/> is one line for a user.</summary>
public sealed record LinkError(string Name, string Reason) : ILinkMessage;

/// <summary>
/// A link now: where it listens (the bound endpoint) and forwards, its toxics, open and accepted
/// connections, bytes moved per direction (upstream = client → target), and the bytes the proxy
/// holds right now (read but not yet written; bounded per connection).
/// </summary>
public sealed record LinkStatus(
    string Name,
    string Listen,
    string Target,
    IReadOnlyList<Toxic> Toxics,
    int OpenConnections,
    long AcceptedConnections,
    long BytesUpstream,
    long BytesDownstream,
    long BufferedBytes) : ILinkMessage
{
    public bool IsDown => Toxics.Any(t => t.Kind is ToxicKind.Down);
}

/// <summary>
/// Published on the actor system's EventStream whenever a link or its toxics change (the Lab's
/// event log: "faults begun/ended"). <paramref name="Change"/> is e.g. "added", "removed",
/// "toxic added: latency_downstream", "toxic removed: latency_downstream", "toxics cleared".
/// </summary>
public sealed record LinkChanged(string Link, string Change, IReadOnlyList<Toxic> Toxics) : ILinkMessage;
