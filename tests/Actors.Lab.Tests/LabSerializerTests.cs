using System.Text;
using Actors.Lab.Agent;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Lab.Tests;

public sealed class LabSerializerTests() : TestKit(ConfigurationFactory.ParseString(LabSerializer.Hocon))
{
    [Fact]
    public void Reports_and_events_round_trip_through_the_bound_serializer()
    {
        var serialization = Sys.Serialization;
        var report = new NodeReport("tracker2", "akka.tcp://actors@127.0.0.1:4056", ["tracker"], 42, 1000, 2000,
            [new Figure("actors.web.requests", Figure.Counter, "{request}", "HTTP requests", "code=2xx", 12)]);
        var serializer = serialization.FindSerializerFor(report);
        Assert.IsType<LabSerializer>(serializer);
        var back = (NodeReport)serialization.Deserialize(serializer.ToBinary(report), serializer.Identifier, "report/1");
        Assert.Equal(report with { Roles = back.Roles, Figures = back.Figures }, back);
        Assert.Equal(report.Roles, back.Roles);
        Assert.Equal(report.Figures, back.Figures);

        var e = new NodeEvent("rendezvous", "call-placed", "call 1 alice → bob: Direct", 3000);
        Assert.Equal(e, serialization.Deserialize(serializer.ToBinary(e), serializer.Identifier, "event/1"));
    }

    [Fact]
    public void Every_serializer_of_ours_has_its_own_identifier()
    {
        // Akka keeps one serializer per identifier: a clash silently replaces one with another.
        var ours = new[] { typeof(LabSerializer), typeof(Actors.Calls.Serialization.CallsSerializer), typeof(Actors.Torrent.Tracker.TrackerWireSerializer) }
            .Concat([typeof(Actors.Lab.Links.LinkManager), typeof(Actors.Lab.ClusterLinks.ClusterLinkFaults)])
            .Select(t => t.Assembly).Distinct()
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && typeof(Akka.Serialization.Serializer).IsAssignableFrom(t))
            .Select(t => (Akka.Serialization.Serializer)Activator.CreateInstance(t, (ExtendedActorSystem)Sys)!)
            .ToList();
        Assert.True(ours.Count >= 5, string.Join(", ", ours.Select(s => s.GetType().Name)));
        var clashes = ours.GroupBy(s => s.Identifier).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(s => s.GetType().Name))}");
        Assert.Empty(clashes);
    }

    [Fact]
    public void The_wire_shape_is_stable_json()
    {
        // What an agent of this version sends; a lab must keep reading it.
        const string wire = """{"node":"web","address":"akka.tcp://actors@127.0.0.1:4054","roles":["web"],"pid":7,"startedUnixMs":1,"sentUnixMs":2,"figures":[{"name":"actors.net.connections.open","kind":"gauge","unit":"{connection}","description":"d","tags":"","value":3}]}""";
        var serializer = new LabSerializer((ExtendedActorSystem)Sys);
        var report = (NodeReport)serializer.FromBinary(Encoding.UTF8.GetBytes(wire), "report/1");
        Assert.Equal("web", report.Node);
        Assert.Equal(3, report.Figures.Single().Value);
        Assert.Equal(wire, Encoding.UTF8.GetString(serializer.ToBinary(report)));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "report/9"));
    }
}
