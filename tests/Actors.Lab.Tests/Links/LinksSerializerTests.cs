using Actors.Lab.Links;
using Akka.Configuration;
using Akka.Serialization;
using Xunit;

namespace Actors.Lab.Tests.Links;

public sealed class LinksSerializerTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(LinksSerializer.Hocon))
{
    private static readonly Toxic[] Toxics =
    [
        Toxic.Create("latency", "downstream", new Dictionary<string, long> { ["latency"] = 300, ["jitter"] = 20 }, 0.5, "slow"),
        new("b", ToxicStream.Upstream, new ToxicKind.Bandwidth(100)),
        new("s", ToxicStream.Upstream, new ToxicKind.Slicer(64, 8, 100)),
        new("t", ToxicStream.Downstream, new ToxicKind.Timeout(1000)),
        new("r", ToxicStream.Downstream, new ToxicKind.ResetPeer(5)),
        new("l", ToxicStream.Upstream, new ToxicKind.LimitData(10)),
        new("d", ToxicStream.Upstream, ToxicKind.Down.Instance),
    ];

    [Fact]
    public void Every_link_message_round_trips_with_a_stable_manifest()
    {
        var status = new LinkStatus("peer-tracker1", "127.0.0.1:6979", "127.0.0.1:6969", Toxics, 2, 5, 1000, 2000, 30);
        object[] messages =
        [
            new AddLink("a", "127.0.0.1:0", "127.0.0.1:1"), new RemoveLink("a"), new LinkRemoved("a"), ListLinks.Instance,
            new LinkList([status]), new GetLink("a"), new RemoveToxic("a", "slow"), new ClearToxics("a"), ResetLinks.Instance,
            new LinkError("a", "why"), status, new LinkChanged("a", "toxic added", Toxics),
            .. Toxics.Select(t => new AddToxic("a", t)),
        ];
        foreach (var message in messages)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<LinksSerializer>(serializer);
            var manifest = ((SerializerWithStringManifest)serializer).Manifest(message);
            var back = Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
            Assert.Equal(Describe(message), Describe(back));
        }
    }

    [Fact]
    public void A_toxic_travels_in_toxiproxys_shape()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new AddToxic("a", Toxics[0]));
        var json = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(new AddToxic("a", Toxics[0])));
        Assert.Equal("""{"Link":"a","Toxic":{"Name":"slow","Type":"latency","Stream":"downstream","Toxicity":0.5,"Attributes":{"latency":300,"jitter":20}}}""", json);
    }

    private static string Describe(object message) => message switch
    {
        LinkList l => $"LS {string.Join(";", l.Links.Select(Describe))}",
        LinkStatus s => $"ST {s with { Toxics = [] }} {string.Join(",", s.Toxics)}",
        LinkChanged c => $"LC {c.Link} {c.Change} {string.Join(",", c.Toxics)}",
        _ => message.ToString()!,
    };
}
