using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// Base of the actor-level peer tests: a temporary directory and an actor system on
/// <see cref="SwarmFixture.Config"/> per test, both gone when the test ends.
/// </summary>
public abstract class SwarmTest(string systemName) : IDisposable
{
    protected readonly TempDirectory _temp = new();
    protected readonly ActorSystem _system = ActorSystem.Create(systemName, SwarmFixture.Config);

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }
}
