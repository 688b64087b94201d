using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Actors.Lab.Nat;

/// <summary>One cell of the matrix: a call from a host of one kind to a host of another, and both ends' JSON reports (null, with the error, when a report never came).</summary>
public sealed record NatCell(NatMatrix.Kind From, NatMatrix.Kind To, string CallerId, string CalleeId, JsonElement? Caller, JsonElement? Callee, string? Error);

/// <summary>What a matrix run left: its cells in order, and every caller's output (for a failure's diagnosis).</summary>
public sealed record NatMatrixResult(IReadOnlyList<NatCell> Cells, string Trace);

/// <summary>
/// The NAT matrix: every ordered pair of public host, cone NAT (MASQUERADE) and symmetric NAT
/// (MASQUERADE --random-fully), one call each, the path chosen and the setup time as the caller
/// measured them, checked against the path each pair must take. Shared by the Lab's
/// <c>nat-matrix</c> scenario and the Calls NAT test.
/// </summary>
public static class NatMatrix
{
    public enum Kind { Public, Cone, Symmetric }

    /// <summary>
    /// One long-running caller per host: two of each kind, so every ordered pair of kinds has two
    /// different hosts. <c>Rendezvous</c> is an index into the world's rendezvous nodes (modulo
    /// their count): the callers alternate between them, so calls cross nodes.
    /// </summary>
    public static readonly (string Id, string Ns, Kind Kind, int Rendezvous)[] Hosts =
    [
        ("p1", "pub", Kind.Public, 0), ("p2", "pub2", Kind.Public, 1),
        ("c1", "home1", Kind.Cone, 0), ("c2", "home2", Kind.Cone, 1),
        ("s1", "home3", Kind.Symmetric, 1), ("s2", "home4", Kind.Symmetric, 0),
    ];

    public static Kind? ParseKind(string text) => text switch
    {
        "public" => Kind.Public,
        "cone" => Kind.Cone,
        "symmetric" => Kind.Symmetric,
        _ => null,
    };

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

    /// <summary>
    /// Runs the matrix over <paramref name="kinds"/> (every ordered pair, so n² calls, one after
    /// the other): one long-running caller per host of those kinds (auto-answering, calls placed
    /// over stdin), each call lasting <paramref name="callDuration"/>. A call whose reports do not
    /// come within <see cref="NatWorld.Wait"/> is a cell with an error; the others still run.
    /// Every caller is stopped before it returns.
    /// </summary>
    public static NatMatrixResult Run(NatWorld world, IReadOnlyList<Kind> kinds, TimeSpan callDuration, Action<string> log, CancellationToken cancel = default)
    {
        var rendezvous = world.RendezvousAddresses;
        var hosts = Hosts.Where(h => kinds.Contains(h.Kind)).ToList();
        var duration = callDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        var callers = hosts.ToDictionary(h => h.Id, h => world.Start(world.Ns(h.Ns), "caller", "--id", h.Id, "--secret", $"{h.Id}-secret",
            "--rendezvous", $"{rendezvous[h.Rendezvous % rendezvous.Count]}:7400", "--listen", "7600", "--config", world.VerboseCallerConfig,
            "--auto-answer", "--duration", duration));
        string Trace() => string.Join("\n", callers.Select(c => $"{c.Key}:\n{c.Value.Output}"));
        var cells = new List<NatCell>();
        try
        {
            foreach (var (id, _, kind, _) in hosts)
                callers[id].WaitForLine(l => l.Contains(kind == Kind.Public ? "reachable: yes" : "reachable: no"), NatWorld.Wait, cancel);
            log($"{hosts.Count} callers registered ({string.Join(", ", hosts.Select(h => $"{h.Id} {h.Kind}"))})");
            // Presence spreads between rendezvous nodes by Distributed Data gossip (500 ms rounds):
            // a call placed the moment its callee registered elsewhere would find it offline.
            if (rendezvous.Count > 1) cancel.WaitHandle.WaitOne(3000);

            var first = hosts.GroupBy(h => h.Kind).ToDictionary(g => g.Key, g => g.First());
            var second = hosts.GroupBy(h => h.Kind).ToDictionary(g => g.Key, g => g.Last());
            foreach (var from in kinds)
            {
                foreach (var to in kinds)
                {
                    cancel.ThrowIfCancellationRequested();
                    // Two different hosts per cell; the same pair of hosts never meets twice.
                    var a = first[from];
                    var b = from == to ? second[to] : from < to ? first[to] : second[to];
                    var cell = Call(callers[a.Id], callers[b.Id], from, to, a.Id, b.Id, cancel);
                    log($"{from} → {to} ({a.Id} → {b.Id}): {(cell.Caller is { } s ? Describe(s) : cell.Error)}");
                    cells.Add(cell);
                }
            }
            return new NatMatrixResult(cells, Trace());
        }
        finally
        {
            foreach (var c in callers.Values) c.Dispose();
        }
    }

    /// <summary>Places a call from a running caller (stdin) and waits for both ends' reports.</summary>
    private static NatCell Call(NsProcess from, NsProcess to, Kind fromKind, Kind toKind, string fromId, string toId, CancellationToken cancel)
    {
        int fromBefore = Reports(from).Count, toBefore = Reports(to).Count;
        from.WriteLine($"/call {toId}");
        var deadline = DateTime.UtcNow + NatWorld.Wait;
        while (true)
        {
            List<JsonElement> caller = Reports(from), callee = Reports(to);
            if (caller.Count > fromBefore && callee.Count > toBefore)
                return new NatCell(fromKind, toKind, fromId, toId, caller[fromBefore], callee[toBefore], null);
            if (DateTime.UtcNow > deadline || from.HasExited || to.HasExited)
                return new NatCell(fromKind, toKind, fromId, toId, caller.Count > fromBefore ? caller[fromBefore] : null,
                    callee.Count > toBefore ? callee[toBefore] : null, $"no report from {(caller.Count > fromBefore ? toId : fromId)} within {NatWorld.Wait.TotalSeconds} s");
            cancel.WaitHandle.WaitOne(50);
            cancel.ThrowIfCancellationRequested();
        }
    }

    private static List<JsonElement> Reports(NsProcess caller) =>
        [.. caller.StdoutLines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    /// <summary>
    /// The invariants per cell: <c>path</c> — both ends completed the same call over the expected
    /// path with media flowing (more than <paramref name="minFrames"/> frames), a punched call
    /// never touched a relay (no path change, 1–3 attempts), a relayed one tried to punch first,
    /// a direct or reverse one did not; <c>udp</c> — the UDP media path came up exactly where
    /// expected, carried the media there, and rejected no datagram.
    /// </summary>
    public static IReadOnlyList<(string Name, string Check, bool Passed, string Detail)> Check(IEnumerable<NatCell> cells, int minFrames)
    {
        var results = new List<(string, string, bool, string)>();
        foreach (var cell in cells)
        {
            var name = $"{cell.From} → {cell.To}";
            var expected = Expected(cell.From, cell.To);
            if (cell.Caller is not { } caller || cell.Callee is not { } callee)
            {
                results.Add(($"path {name}", "path", false, $"want {expected}: {cell.Error}"));
                results.Add(($"udp {name}", "udp", false, cell.Error ?? ""));
                continue;
            }
            var path = PathProblem(caller, callee, expected, minFrames);
            results.Add(($"path {name}", "path", path is null, path ?? $"{Describe(caller)} (want {expected})"));
            var udpExpected = UdpExpected(cell.From, cell.To);
            var udp = UdpProblem(caller, udpExpected);
            results.Add(($"udp {name}", "udp", udp is null, udp ?? (udpExpected ? $"up, {Media(caller)}" : "not up, as expected: media over tcp")));
        }
        return results;
    }

    private static string? PathProblem(JsonElement caller, JsonElement callee, string expected, int minFrames)
    {
        foreach (var (s, role) in new[] { (caller, "caller"), (callee, "callee") })
        {
            if (Text(s, "role") != role) return $"{role}'s report says role {Text(s, "role")}";
            if (Text(s, "result") != "completed") return $"{role}: result {Text(s, "result")}: {s}";
            if (Text(s, "path") != expected) return $"{role}: path {Text(s, "path")}, want {expected}: {s}";
            if (Number(s, "framesReceived") <= minFrames) return $"{role}: {Number(s, "framesReceived")} frames received, want > {minFrames}";
        }
        if (Text(caller, "callId") != Text(callee, "callId")) return $"the two reports are of different calls ({Text(caller, "callId")}, {Text(callee, "callId")})";
        var attempts = caller.GetProperty("punchAttempts");
        return expected switch
        {
            // Punched and stayed punched: the relay never carried a byte of this call.
            "holepunch" when Number(caller, "pathChanges") != 0 => $"punched, then {Number(caller, "pathChanges")} path changes",
            "holepunch" when attempts.ValueKind != JsonValueKind.Number || attempts.GetInt32() is < 1 or > 3 => $"punched after {attempts} attempts, want 1–3",
            "relay" when attempts.ValueKind != JsonValueKind.Number || attempts.GetInt32() < 1 => $"relayed without trying to punch: {caller}",
            "direct" or "reverse" when attempts.ValueKind != JsonValueKind.Null => $"{expected}, yet {attempts} punch attempts",
            _ => null,
        };
    }

    private static string? UdpProblem(JsonElement s, bool expected)
    {
        var udp = s.GetProperty("udp");
        var up = udp.GetProperty("up").GetBoolean();
        if (up != expected) return $"udp {(up ? "up" : "not up")}, want {(expected ? "up" : "not up")}: {udp}";
        if (expected && Text(s, "mediaPath") == "tcp") return $"udp up but media over tcp: {s}";
        if (expected && udp.GetProperty("framesReceived").GetInt64() <= 10) return $"udp up but {udp.GetProperty("framesReceived")} frames over it";
        if (!expected && Text(s, "mediaPath") != "tcp") return $"media path {Text(s, "mediaPath")}, want tcp";
        var rejected = udp.GetProperty("rejected").GetInt64();
        return rejected != 0 ? $"{rejected} datagrams rejected" : null;
    }

    private static string? Text(JsonElement s, string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Number(JsonElement s, string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : -1;

    private static string Media(JsonElement s)
    {
        var udp = s.GetProperty("udp");
        return udp.GetProperty("up").GetBoolean() ? $"media udp (rtt {udp.GetProperty("rttMs")} ms, loss {udp.GetProperty("loss")})" : "media tcp";
    }

    /// <summary>"holepunch 412 ms, 1 punch, media udp (rtt 0.4 ms, loss 0)": one cell as the matrix shows it.</summary>
    public static string Describe(JsonElement s)
    {
        var attempts = s.TryGetProperty("punchAttempts", out var n) && n.ValueKind == JsonValueKind.Number ? $", {n.GetInt32()} punch" : "";
        var setup = s.TryGetProperty("setupMs", out var ms) && ms.ValueKind == JsonValueKind.Number ? ms.GetDouble().ToString("F0", CultureInfo.InvariantCulture) : "?";
        return $"{Text(s, "path")} {setup} ms{attempts}, {Media(s)}";
    }

    /// <summary>The matrix as a Markdown table: caller kind down, callee kind across, the path and setup time in each cell.</summary>
    public static string Render(IReadOnlyList<NatCell> cells)
    {
        var kinds = cells.Select(c => c.From).Concat(cells.Select(c => c.To)).Distinct().Order().ToList();
        var text = new StringBuilder("| caller ↓ callee → | " + string.Join(" | ", kinds) + " |\n|---|" + string.Concat(kinds.Select(_ => "---|")) + "\n");
        foreach (var from in kinds)
        {
            text.Append($"| {from} | ");
            text.Append(string.Join(" | ", kinds.Select(to => cells.FirstOrDefault(c => c.From == from && c.To == to) is { } cell
                ? cell.Caller is { } s ? Describe(s) : $"**no report** ({cell.Error})" : "")));
            text.Append(" |\n");
        }
        return text.ToString();
    }

    /// <summary>The cells for report.json: kinds, hosts, expected and chosen path, setup time, punch attempts, both ends' reports.</summary>
    public static IEnumerable<object> Json(IReadOnlyList<NatCell> cells) => cells.Select(c => new
    {
        from = c.From.ToString().ToLowerInvariant(),
        to = c.To.ToString().ToLowerInvariant(),
        caller = c.CallerId,
        callee = c.CalleeId,
        expected = Expected(c.From, c.To),
        udpExpected = UdpExpected(c.From, c.To),
        path = c.Caller is { } s ? Text(s, "path") : null,
        setupMs = c.Caller is { } t && t.TryGetProperty("setupMs", out var ms) && ms.ValueKind == JsonValueKind.Number ? ms.GetDouble() : (double?)null,
        punchAttempts = c.Caller is { } u && u.TryGetProperty("punchAttempts", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt32() : (int?)null,
        error = c.Error,
        callerReport = c.Caller,
        calleeReport = c.Callee,
    });
}
