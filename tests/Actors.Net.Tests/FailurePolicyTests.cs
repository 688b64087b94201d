using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Akka.Actor;
using Xunit;

namespace Actors.Net.Tests;

/// <summary>What the one failure policy escalates, and what it leaves to the parent.</summary>
public sealed class FailurePolicyTests
{
    private static Directive Decide(SupervisorStrategy strategy, Exception ex) => ((OneForOneStrategy)strategy).Decider.Decide(ex);

    [Fact]
    public void A_port_that_is_taken_escalates_even_when_it_failed_a_child_s_start()
    {
        var bind = new TcpServer.BindFailedException("cannot listen on 0.0.0.0:80: Address already in use", outOfDescriptors: false);
        Assert.Equal(Directive.Escalate, Decide(FailurePolicy.Strategy(), bind));
        var wrapped = new ActorInitializationException(null, "PreStart failed", bind);
        Assert.Equal(Directive.Escalate, Decide(FailurePolicy.Strategy(_ => Directive.Stop), wrapped));
        Assert.Same(bind, FailurePolicy.Fatal(wrapped));
    }

    [Fact]
    public void Other_failures_get_the_parent_s_directive_or_Akka_s_default()
    {
        Assert.Null(FailurePolicy.Fatal(new InvalidOperationException("bug")));
        Assert.Equal(Directive.Restart, Decide(FailurePolicy.Strategy(), new InvalidOperationException("bug")));
        Assert.Equal(Directive.Stop, Decide(FailurePolicy.Strategy(), new ActorInitializationException("no start")));
        Assert.Equal(Directive.Stop, Decide(FailurePolicy.Strategy(_ => Directive.Stop), new InvalidOperationException("bug")));
    }
}
