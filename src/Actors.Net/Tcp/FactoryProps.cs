using Akka.Actor;

namespace Actors.Net.Tcp;

/// <summary>
/// Props that build the actor with a plain delegate. <c>Props.Create(() => new T(args))</c> builds an
/// expression tree at every call, reads each argument back out of it by reflection and then creates
/// the actor with <c>Activator.CreateInstance</c>; for an actor made per accepted connection that
/// showed up in profiles of connection-per-request loads. These Props are local only (a delegate
/// cannot be deployed remotely), which is all a connection actor ever is.
/// </summary>
public static class FactoryProps
{
    public static Props Create<TActor>(Func<TActor> factory) where TActor : ActorBase =>
        Props.CreateBy(new Producer<TActor>(factory));

    private sealed class Producer<TActor>(Func<TActor> factory) : IIndirectActorProducer where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor) { }
    }
}
