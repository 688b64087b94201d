using System.Text.Json;
using Actors.Calls.Caller;
using Actors.Calls.Protocol;
using Actors.Calls.Tests.Nat;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>The real <c>actors rendezvous</c> and <c>actors caller</c> processes on loopback.</summary>
public sealed class CommandLineTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(40);
    // A media frame on the wire: length 4, type 1, seq 4, timestamp 8, payload length 2.
    private const int MediaHeaderBytes = 19;
    private readonly string _users = Path.Combine(Path.GetTempPath(), $"calls-cli-users-{Guid.NewGuid():N}.txt");
    private readonly string _wav = Path.Combine(Path.GetTempPath(), $"calls-cli-{Guid.NewGuid():N}.wav");

    public CommandLineTests() => File.WriteAllLines(_users, ["alice:alice-secret", "bob:bob-secret"]);

    public void Dispose()
    {
        File.Delete(_users);
        File.Delete(_wav);
    }

    [Fact]
    public void Rendezvous_without_users_fails_naming_the_setting()
    {
        using var rendezvous = NsProcess.Actors(null, "rendezvous", "--port", "0");
        Assert.Equal(2, rendezvous.WaitForExit(Wait));
        Assert.Contains(rendezvous.Lines, l => l.Contains("actors.rendezvous.users-file"));
    }

    [Fact]
    public void Caller_with_a_wrong_secret_exits_with_the_refusal()
    {
        var port = FreePort();
        using var rendezvous = NsProcess.Actors(null, "rendezvous", "--host", "127.0.0.1", "--port", port.ToString(), "--users", _users);
        rendezvous.WaitForLine(l => l.Contains("Listening on"), Wait);
        using var mallory = NsProcess.Actors(null, "caller", "--id", "alice", "--secret", "guess", "--rendezvous", $"127.0.0.1:{port}");
        Assert.Equal(1, mallory.WaitForExit(Wait));
        Assert.Contains(mallory.Lines, l => l.Contains("unknown identity or wrong proof"));
    }

    [Fact]
    public void Two_caller_processes_talk_and_exchange_text_then_report_json()
    {
        var port = FreePort();
        using var rendezvous = NsProcess.Actors(null, "rendezvous", "--host", "127.0.0.1", "--port", port.ToString(), "--users", _users);
        rendezvous.WaitForLine(l => l.Contains("Listening on"), Wait);
        using var bob = NsProcess.Actors(null, "caller", "--id", "bob", "--secret", "bob-secret", "--rendezvous", $"127.0.0.1:{port}",
            "--listen", "0", "--listen-host", "127.0.0.1", "--auto-answer");
        bob.WaitForLine(l => l.Contains("reachable: yes"), Wait);
        // Alice sends a WAV (16 kHz mono: 640-byte frames), bob the default tone.
        File.WriteAllBytes(_wav, WavAudio.Generate(16000, 1, TimeSpan.FromSeconds(0.5)));
        using var alice = NsProcess.Actors(null, "caller", "--id", "alice", "--secret", "alice-secret", "--rendezvous", $"127.0.0.1:{port}",
            "--call", "bob", "--duration", "2", "--wav", _wav);
        alice.WaitForLine(l => l.Contains("connected: direct"), Wait);
        alice.WriteLine("hello bob");
        bob.WaitForLine(l => l.Contains("alice: hello bob"), Wait);
        Assert.Equal(0, alice.WaitForExit(Wait));
        var reports = alice.StdoutLines.Where(l => l.StartsWith('{')).ToList();
        Assert.True(reports.Count == 1, "one call, one JSON report; alice printed:\n" + string.Join('\n', alice.Lines));
        // stdout carries only the documented lines; logs and shutdown noise go to stderr.
        string[] documented = ["registered as ", "ringing: ", "connected: ", "bob: ", "{"];
        var undocumented = alice.StdoutLines.Where(l => !documented.Any(l.StartsWith)).ToList();
        Assert.True(undocumented.Count == 0, "alice's stdout has undocumented lines:\n" + string.Join('\n', undocumented));
        var summary = JsonDocument.Parse(reports[0]).RootElement;
        Assert.Equal("direct", summary.GetProperty("path").GetString());
        Assert.Equal("completed", summary.GetProperty("result").GetString());
        var bobSummary = JsonDocument.Parse(bob.WaitForLine(l => l.StartsWith('{'), Wait)).RootElement;
        Assert.Equal(1, bobSummary.GetProperty("textsReceived").GetInt32());
        var frames = bobSummary.GetProperty("framesReceived").GetInt64();
        Assert.True(frames > 50, bobSummary.ToString());
        // Version 2 callers on loopback carry their media over UDP (7-byte header, 12 bytes of
        // seq and timestamp, 16-byte tag); any frame that went over TCP costs a frame header.
        var udpFrames = bobSummary.GetProperty("udp").GetProperty("framesReceived").GetInt64();
        Assert.True(udpFrames > 0, bobSummary.ToString());
        Assert.Equal((frames - udpFrames) * (MediaHeaderBytes + 640) + udpFrames * (UdpMediaCodec.HeaderSize + 12 + UdpMediaCodec.TagSize + 640),
            bobSummary.GetProperty("bytesReceived").GetInt64());
    }

    [Fact]
    public void Caller_whose_rendezvous_node_is_killed_mid_call_registers_at_the_other_and_completes_the_call()
    {
        // Two rendezvous processes in one cluster; bob (reachable) at the second, alice given both
        // and registered at the first. The first is killed with SIGKILL while the call runs.
        int[] ports = [FreePort(), FreePort()];
        Array.Sort(ports); // the survivor gets the lower cluster address: keep-majority keeps it on a tie
        var (clusterSurvivor, clusterVictim) = (ports[0], ports[1]);
        var (victimPort, survivorPort) = (FreePort(), FreePort());
        using var victim = NsProcess.Actors(null, "rendezvous", "--host", "127.0.0.1", "--port", victimPort.ToString(), "--users", _users,
            "--cluster-host", "127.0.0.1", "--cluster-port", clusterVictim.ToString(), "--name", "rdv-victim");
        victim.WaitForLine(l => l.Contains("Listening on"), Wait);
        using var survivor = NsProcess.Actors(null, "rendezvous", "--host", "127.0.0.1", "--port", survivorPort.ToString(), "--users", _users,
            "--cluster-host", "127.0.0.1", "--cluster-port", clusterSurvivor.ToString(), "--seed", $"127.0.0.1:{clusterVictim}", "--name", "rdv-survivor");
        survivor.WaitForLine(l => l.Contains("Listening on"), Wait);
        victim.WaitForLine(l => l.Contains("Member up") && l.Contains($":{clusterSurvivor}"), Wait);

        using var bob = NsProcess.Actors(null, "caller", "--id", "bob", "--secret", "bob-secret", "--rendezvous", $"127.0.0.1:{survivorPort}",
            "--listen", "0", "--listen-host", "127.0.0.1", "--auto-answer");
        bob.WaitForLine(l => l.Contains("reachable: yes"), Wait);
        Thread.Sleep(1000); // bob's presence spreads to the other node
        using var alice = NsProcess.Actors(null, "caller", "--id", "alice", "--secret", "alice-secret",
            "--rendezvous", $"127.0.0.1:{victimPort}", "--rendezvous", $"127.0.0.1:{survivorPort}", "--call", "bob", "--duration", "10");
        alice.WaitForLine(l => l.Contains("connected: direct"), Wait);
        Assert.Single(alice.Lines, l => l.Contains("registered as alice"));

        victim.Kill();
        var deadline = DateTime.UtcNow + Wait;
        while (alice.Lines.Count(l => l.Contains("registered as alice")) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "alice did not register again:\n" + alice.Output);
            Thread.Sleep(100);
        }
        Assert.Equal(0, alice.WaitForExit(Wait));
        var report = JsonDocument.Parse(alice.Lines.Single(l => l.StartsWith('{'))).RootElement;
        Assert.True(report.GetProperty("result").GetString() == "completed", alice.Output);
        Assert.Equal(0, report.GetProperty("pathChanges").GetInt32());
        var bobReport = JsonDocument.Parse(bob.WaitForLine(l => l.StartsWith('{'), Wait)).RootElement;
        Assert.True(bobReport.GetProperty("result").GetString() == "completed", $"bob:\n{bob.Output}\nalice:\n{alice.Output}");
        Assert.True(bobReport.GetProperty("framesReceived").GetInt64() > 100, $"bob:\n{bob.Output}\nalice:\n{alice.Output}");
    }

    [Fact]
    public void Caller_with_a_truncated_WAV_exits_naming_the_setting_and_the_problem()
    {
        var wav = WavAudio.Generate(16000, 1, TimeSpan.FromSeconds(0.5));
        File.WriteAllBytes(_wav, wav[..(wav.Length / 2)]);
        using var alice = NsProcess.Actors(null, "caller", "--id", "alice", "--secret", "alice-secret", "--rendezvous", "127.0.0.1:9", "--wav", _wav);
        Assert.Equal(2, alice.WaitForExit(Wait));
        Assert.Contains(alice.Lines, l => l.Contains("actors.caller.wav") && l.Contains("truncated"));
    }

    private static int FreePort() => Ports.Free();
}
