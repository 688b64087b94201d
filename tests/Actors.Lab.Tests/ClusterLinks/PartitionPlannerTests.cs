using Actors.Lab.ClusterLinks;
using Akka.Actor;
using Xunit;

namespace Actors.Lab.Tests.ClusterLinks;

public sealed class PartitionPlannerTests
{
    private static readonly string[] Five = ["n1", "n2", "n3", "n4", "n5"];

    /// <summary>Whether traffic from one node reaches another under the plan's blocks.</summary>
    private static bool Reaches(PartitionPlan plan, string from, string to)
    {
        bool Blocks(string node, string peer, BlockDirection direction) =>
            plan.Blocks.TryGetValue(node, out var links) && links.Any(l => l.Address == peer && (l.Direction == direction || l.Direction == BlockDirection.Both));
        return !Blocks(from, to, BlockDirection.Outbound) && !Blocks(to, from, BlockDirection.Inbound);
    }

    private static void AssertCutsAreExactly(PartitionPlan plan, IEnumerable<string> nodes, Func<string, string, bool> cut)
    {
        foreach (var from in nodes)
            foreach (var to in nodes.Where(n => n != from))
                Assert.True(Reaches(plan, from, to) != cut(from, to), $"{from} -> {to} should be {(cut(from, to) ? "cut" : "open")}");
    }

    [Theory]
    [InlineData("one", 1)]
    [InlineData("minority", 2)]
    [InlineData("majority", 3)]
    public void Jepsen_specs_split_the_members_into_two_sides(string spec, int selected)
    {
        var plan = PartitionPlanner.Plan(spec, Five, random: new Random(1));
        Assert.Equal(selected, plan.Selected.Count);
        Assert.Equal(Five.Order(), plan.Selected.Concat(plan.Rest).Order());
        AssertCutsAreExactly(plan, Five, (from, to) => plan.Selected.Contains(from) != plan.Selected.Contains(to));
    }

    [Fact]
    public void One_way_cuts_only_the_selected_sides_traffic_towards_the_rest()
    {
        var plan = PartitionPlanner.Plan("n2,n4", Five, oneWay: true);
        Assert.Equal(["n2", "n4"], plan.Selected);
        AssertCutsAreExactly(plan, Five, (from, to) => plan.Selected.Contains(from) && !plan.Selected.Contains(to));
    }

    [Fact]
    public void Cuts_that_touch_the_controller_are_applied_on_it_and_it_comes_last_to_apply_and_first_to_heal()
    {
        var plan = PartitionPlanner.Plan("n1", Five.Take(3).ToList(), controller: "n3");
        // Whoever else blocks something never blocks the controller: requests and replies get through.
        foreach (var (node, links) in plan.Blocks.Where(kv => kv.Key != "n3"))
            Assert.DoesNotContain(links, l => l.Address == "n3");
        Assert.Equal([new BlockedLink("n1", BlockDirection.Both)], plan.Blocks["n3"]);
        Assert.Equal("n3", plan.ApplyOrder[^1]);
        Assert.Equal("n3", plan.HealOrder[0]);
        AssertCutsAreExactly(plan, Five.Take(3), (from, to) => (from == "n1") != (to == "n1"));
        var command = Assert.Single(plan.CommandsFor("n3"));
        Assert.Equal(["n1"], command.Addresses);
        Assert.Equal(BlockDirection.Both, command.Direction);
    }

    [Fact]
    public void Keep_in_majority_keeps_the_lab_out_of_the_isolated_side()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var plan = PartitionPlanner.Plan("minority", Five, random: new Random(seed), keepInMajority: ["n1", "n2"]);
            Assert.DoesNotContain("n1", plan.Selected);
            Assert.DoesNotContain("n2", plan.Selected);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_plan()
    {
        var first = PartitionPlanner.Plan("minority", Five, random: new Random(42));
        var second = PartitionPlanner.Plan("minority", Five, random: new Random(42));
        Assert.Equal(first.Selected, second.Selected);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(6)]
    public void Majorities_ring_lets_every_node_hear_a_majority_and_no_two_the_same(int n)
    {
        var nodes = Enumerable.Range(1, n).Select(i => $"n{i}").ToList();
        var plan = PartitionPlanner.Plan("majorities-ring", nodes, random: new Random(3));
        var heard = nodes.ToDictionary(to => to, to => nodes.Where(from => from == to || Reaches(plan, from, to)).Order().ToList());
        Assert.All(heard.Values, h => Assert.Equal(n / 2 + 1, h.Count));
        Assert.Equal(n, heard.Values.Select(h => string.Join(",", h)).Distinct().Count());
    }

    [Theory]
    [InlineData("n9", "not a member: n9")]
    [InlineData("n1,n2,n3,n4,n5", "every member")]
    [InlineData(" , ", "unknown node spec")]
    public void Bad_specs_are_refused_with_a_clear_message(string spec, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => PartitionPlanner.Plan(spec, Five));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_partition_needs_two_nodes_and_a_ring_three()
    {
        Assert.Throws<ArgumentException>(() => PartitionPlanner.Plan("one", ["n1"]));
        Assert.Throws<ArgumentException>(() => PartitionPlanner.Plan("majorities-ring", ["n1", "n2"]));
    }
}

public sealed class ClusterLinksSerializerTests() : Akka.TestKit.Xunit2.TestKit(Akka.Configuration.ConfigurationFactory.ParseString(ClusterLinksSerializer.Hocon))
{
    [Fact]
    public void Every_message_round_trips_with_a_stable_manifest()
    {
        var serialization = Sys.Serialization;
        object[] messages =
        [
            new BlockTraffic(["akka.trttl.tcp://actors@127.0.0.1:4053"], BlockDirection.Outbound),
            new HealTraffic(["akka.trttl.tcp://actors@127.0.0.1:4053"]),
            HealTraffic.All,
            GetClusterLinkState.Instance,
            new ClusterLinkState("akka.trttl.tcp://actors@127.0.0.1:4054", [new BlockedLink("akka.trttl.tcp://actors@127.0.0.1:4053", BlockDirection.Both)]),
            new ClusterLinkError("n", "why"),
        ];
        foreach (var message in messages)
        {
            var serializer = serialization.FindSerializerFor(message);
            Assert.IsType<ClusterLinksSerializer>(serializer);
            var manifest = ((Akka.Serialization.SerializerWithStringManifest)serializer).Manifest(message);
            var back = serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
            Assert.Equal(Describe(message), Describe(back));
        }
        // The wire shape is JSON with direction names, not enum numbers.
        var json = System.Text.Encoding.UTF8.GetString(serialization.FindSerializerFor(messages[0]).ToBinary(messages[0]));
        Assert.Equal("""{"Addresses":["akka.trttl.tcp://actors@127.0.0.1:4053"],"Direction":"Outbound"}""", json);
    }

    private static string Describe(object message) => message switch
    {
        BlockTraffic b => $"BT {string.Join(",", b.Addresses)} {b.Direction}",
        HealTraffic h => $"HT {string.Join(",", h.Addresses)}",
        ClusterLinkState s => $"ST {s.Node} {string.Join(",", s.Blocked)}",
        _ => message.ToString()!,
    };
}
