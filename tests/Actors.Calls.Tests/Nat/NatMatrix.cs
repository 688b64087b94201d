using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Actors.Calls.Tests.Nat;

/// <summary>The kinds of network a caller can sit on, and the two callers of each kind the matrix uses.</summary>
public static class NatMatrix
{
    public enum Kind { Public, Cone, Symmetric }

    /// <summary>One long-running caller per host: two of each kind, so every ordered pair of kinds has two different hosts.</summary>
    public static readonly (string Id, string Ns, Kind Kind, string Rendezvous)[] Hosts =
    [
        ("p1", "pub", Kind.Public, NatLab.Rdv1), ("p2", "pub2", Kind.Public, NatLab.Rdv2),
        ("c1", "home1", Kind.Cone, NatLab.Rdv1), ("c2", "home2", Kind.Cone, NatLab.Rdv2),
        ("s1", "home3", Kind.Symmetric, NatLab.Rdv2), ("s2", "home4", Kind.Symmetric, NatLab.Rdv1),
    ];

    /// <summary>
    /// The path each ordered pair must take: a reachable callee is dialled, a reachable caller is
    /// dialled back, two cone NATs punch, and a symmetric NAT with another NAT falls back to the
    /// relay (its mapping changes per destination, so the peer dials a port that leads nowhere).
    /// </summary>
    public static string Expected(Kind caller, Kind callee) => (caller, callee) switch
    {
        (_, Kind.Public) => "direct",
        (Kind.Public, _) => "reverse",
        (Kind.Cone, Kind.Cone) => "holepunch",
        _ => "relay",
    };

    /// <summary>
    /// Whether the UDP media path comes up: like TCP, except that a public host answering a
    /// symmetric NAT replies to wherever the datagram came from, so that pair works over UDP too.
    /// </summary>
    public static bool UdpExpected(Kind caller, Kind callee) =>
        !((caller == Kind.Symmetric && callee != Kind.Public) || (callee == Kind.Symmetric && caller != Kind.Public));
}

public sealed partial class NatTests
{
    /// <summary>
    /// Every ordered pair of public host, cone NAT (MASQUERADE) and symmetric NAT (MASQUERADE
    /// --random-fully): six long-running callers (two per kind, alternating between the two
    /// rendezvous nodes), nine calls one after the other over stdin. Prints the matrix (path and
    /// setup time as the caller measured them) and asserts the expected path for each cell;
    /// a punched call must not have touched a relay (no path change, hole punch to the end).
    /// </summary>
    [NatFact]
    public void Nat_matrix_every_pair_of_public_cone_and_symmetric_takes_the_expected_path()
    {
        lab.EnsureRelaysAlive();
        var callers = NatMatrix.Hosts.ToDictionary(h => h.Id, h => Caller(h.Ns, h.Id, h.Rendezvous, autoAnswer: true, duration: 1.5));
        try
        {
            foreach (var (id, _, kind, _) in NatMatrix.Hosts)
                callers[id].WaitForLine(l => l.Contains(kind == NatMatrix.Kind.Public ? "reachable: yes" : "reachable: no"), Wait);
            string Trace() => string.Join("\n", callers.Select(c => $"{c.Key}:\n{c.Value.Output}"));
            // Presence spreads between the two rendezvous nodes by Distributed Data gossip (500 ms
            // rounds): a call placed the moment its callee registered elsewhere would find it offline.
            Thread.Sleep(3000);

            var first = NatMatrix.Hosts.GroupBy(h => h.Kind).ToDictionary(g => g.Key, g => g.First());
            var second = NatMatrix.Hosts.GroupBy(h => h.Kind).ToDictionary(g => g.Key, g => g.Last());
            var kinds = Enum.GetValues<NatMatrix.Kind>();
            var cells = new Dictionary<(NatMatrix.Kind, NatMatrix.Kind), JsonElement>();
            foreach (var from in kinds)
            {
                foreach (var to in kinds)
                {
                    // Two different hosts per cell; the same pair of hosts never meets twice.
                    var a = first[from];
                    var b = from == to ? second[to] : from < to ? first[to] : second[to];
                    var (caller, callee) = Call(callers[a.Id], callers[b.Id], b.Id);
                    // 1.5 s is 75 frames; the point here is the path, and a loaded machine delivers far fewer.
                    AssertCall(NatMatrix.Expected(from, to), caller, callee, Trace, minFrames: 10);
                    cells[(from, to)] = caller;
                }
            }
            var table = Render(kinds, cells);
            output.WriteLine(table);
            Console.WriteLine(table);

            foreach (var ((from, to), s) in cells)
            {
                // UDP media: authenticated datagrams through the same NATs (both ends agree).
                var udp = s.GetProperty("udp");
                Assert.True(udp.GetProperty("up").GetBoolean() == NatMatrix.UdpExpected(from, to), $"{from}→{to} udp: {s}");
                if (NatMatrix.UdpExpected(from, to))
                {
                    Assert.True(s.GetProperty("mediaPath").GetString() != "tcp", $"{from}→{to}: {s}");
                    Assert.True(udp.GetProperty("framesReceived").GetInt64() > 10, $"{from}→{to}: {s}");
                }
                else Assert.Equal("tcp", s.GetProperty("mediaPath").GetString());
                Assert.Equal(0, udp.GetProperty("rejected").GetInt64());
                var path = s.GetProperty("path").GetString();
                var attempts = s.GetProperty("punchAttempts");
                if (path == "holepunch")
                {
                    // Punched and stayed punched: the relay never carried a byte of this call.
                    Assert.True(s.GetProperty("pathChanges").GetInt32() == 0, $"{from}→{to}: {s}");
                    Assert.InRange(attempts.GetInt32(), 1, 3);
                }
                else if (path == "relay")
                    Assert.True(attempts.ValueKind == JsonValueKind.Number && attempts.GetInt32() >= 1, $"{from}→{to} relayed without trying to punch: {s}");
                else Assert.Equal(JsonValueKind.Null, attempts.ValueKind);
            }
        }
        finally
        {
            foreach (var c in callers.Values) c.Dispose();
        }
    }

    private static string Render(NatMatrix.Kind[] kinds, Dictionary<(NatMatrix.Kind, NatMatrix.Kind), JsonElement> cells)
    {
        string Cell(JsonElement s)
        {
            var attempts = s.GetProperty("punchAttempts") is { ValueKind: JsonValueKind.Number } n ? $", {n.GetInt32()} punch" : "";
            var udp = s.GetProperty("udp");
            var media = udp.GetProperty("up").GetBoolean()
                ? $", media udp (rtt {udp.GetProperty("rttMs")} ms, loss {udp.GetProperty("loss")})"
                : ", media tcp";
            return $"{s.GetProperty("path").GetString()} {s.GetProperty("setupMs").GetDouble().ToString("F0", CultureInfo.InvariantCulture)} ms{attempts}{media}";
        }
        var text = new StringBuilder("| caller ↓ callee → | " + string.Join(" | ", kinds) + " |\n|---|" + string.Concat(kinds.Select(_ => "---|")) + "\n");
        foreach (var from in kinds) text.Append($"| {from} | ").Append(string.Join(" | ", kinds.Select(to => Cell(cells[(from, to)])))).Append(" |\n");
        return text.ToString();
    }

    /// <summary>
    /// Two callers behind cone NATs punch a hole; mid-call the home router starts resetting that
    /// connection (iptables REJECT --reject-with tcp-reset both ways, as a NAT that lost its
    /// mapping would): both sides report the path lost, the call moves to a relay and completes.
    /// </summary>
    [NatFact]
    public void Punched_call_that_breaks_mid_call_moves_to_the_relay_and_goes_on()
    {
        lab.EnsureRelaysAlive();
        using var alice = Caller("home1", "alice", NatLab.Rdv1, autoAnswer: true);
        alice.WaitForLine(l => l.Contains("reachable: no"), Wait);
        using var bob = Caller("home2", "bob", NatLab.Rdv2, call: "alice", duration: 5);
        bob.WaitForLine(l => l.Contains("connected: holepunch"), Wait);
        Thread.Sleep(1000);
        string[] rules = [$"-s 10.1.0.2 -d {NatLab.Wan2}", $"-s {NatLab.Wan2} -d 10.1.0.2"];
        foreach (var rule in rules) lab.Network!.Exec("nat1", "iptables", $"-I FORWARD 1 -p tcp {rule} -j REJECT --reject-with tcp-reset");
        try
        {
            var summary = Summary(bob);
            var trace = $"bob:\n{bob.Output}\nalice:\n{alice.Output}";
            Assert.True(summary.GetProperty("result").GetString() == "completed", trace);
            Assert.True(summary.GetProperty("path").GetString() == "relay", trace);
            Assert.True(summary.GetProperty("pathChanges").GetInt32() == 1, trace);
            Assert.InRange(summary.GetProperty("punchAttempts").GetInt32(), 1, 3);
            // 5 s at 50 frames/s, ~1 s of it punched: most of the rest came through the relay.
            Assert.True(summary.GetProperty("framesReceived").GetInt64() > 150, trace);
            var aliceSummary = Summary(alice);
            Assert.True(aliceSummary.GetProperty("pathChanges").GetInt32() == 1, trace);
        }
        finally
        {
            foreach (var rule in rules) lab.Network!.Exec("nat1", "iptables", $"-D FORWARD -p tcp {rule} -j REJECT --reject-with tcp-reset");
        }
    }
}
