namespace Actors.Lab.Links;

/// <summary>
/// One link's figures, updated by its connection actors and read by the <see cref="LinkManager"/>
/// for <see cref="LinkStatus"/>. Thread-safe counters (like <c>Actors.Net.RateLimit.TokenBucket</c>)
/// rather than a message per chunk: the figures are exact at any moment and cost one atomic add.
/// </summary>
public sealed class LinkCounters
{
    private long _open, _accepted, _up, _down, _buffered;

    public int Open => (int)Interlocked.Read(ref _open);
    public long Accepted => Interlocked.Read(ref _accepted);
    public long BytesUpstream => Interlocked.Read(ref _up);
    public long BytesDownstream => Interlocked.Read(ref _down);
    public long Buffered => Interlocked.Read(ref _buffered);

    public void Opened() { Interlocked.Increment(ref _open); Interlocked.Increment(ref _accepted); }
    public void Closed() => Interlocked.Decrement(ref _open);
    public void Moved(ToxicStream stream, long bytes) => Interlocked.Add(ref stream == ToxicStream.Upstream ? ref _up : ref _down, bytes);
    public void BufferChanged(long delta) => Interlocked.Add(ref _buffered, delta);
}
