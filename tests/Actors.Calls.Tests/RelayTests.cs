using System.Net.Sockets;
using System.Security.Cryptography;
using Actors.Calls.Protocol;
using Actors.Calls.Relay;
using Actors.Calls.Tests.Support;
using Akka.Actor;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>The relay alone: tokens, pairing, piping with back-pressure, quotas.</summary>
public sealed class RelayTests : IDisposable
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
    private readonly CallLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static SessionAllocated Allocate(IActorRef relay, string callId = "call-1") =>
        Assert.IsType<SessionAllocated>(relay.Ask<object>(new AllocateSession(callId), TimeSpan.FromSeconds(5)).Result);

    private static RawClient Join(int port, string callId, string token, string id)
    {
        var client = new RawClient(port);
        client.Send(new Join(callId, token, id));
        return client;
    }

    [Fact]
    public async Task Relay_publishes_itself_again_when_its_entry_is_removed()
    {
        // What a rendezvous does when an earlier incarnation of this relay's node leaves the cluster:
        // the entry (keyed by address) goes, even if this incarnation had already written it.
        var (node, _, _) = _lab.Relay();
        CallLab.WaitForRelays(node, 1);
        var cluster = Akka.Cluster.Cluster.Get(node);
        var replicator = Akka.DistributedData.DistributedData.Get(node).Replicator;
        var address = cluster.SelfAddress.ToString();
        async Task<RelayInfo?> Entry()
        {
            var reply = await replicator.Ask(Akka.DistributedData.Dsl.Get(RelayRegistry.Key, Akka.DistributedData.ReadLocal.Instance), Short);
            return reply is Akka.DistributedData.GetSuccess success && success.Get(RelayRegistry.Key).TryGetValue(address, out var info) ? info : null;
        }
        var before = (await Entry())!;
        replicator.Tell(Akka.DistributedData.Dsl.Update(RelayRegistry.Key, Akka.DistributedData.LWWDictionary<string, RelayInfo>.Empty,
            Akka.DistributedData.WriteLocal.Instance, map => map.Remove(cluster, address)));
        // Its load did not change, so only noticing the removal makes it publish again.
        var deadline = DateTime.UtcNow + Short;
        while (await Entry() is not { } again || again.UpdatedAtTicks <= before.UpdatedAtTicks)
        {
            Assert.True(DateTime.UtcNow < deadline, "the relay did not publish itself again");
            await Task.Delay(50);
        }
    }

    [Fact]
    public void Unknown_token_is_refused()
    {
        var (_, _, port) = _lab.Relay();
        using var client = Join(port, "call-1", "not-a-token", "alice");
        Assert.Equal(RefusalCode.UnknownToken, Assert.IsType<Refused>(client.Next()).Code);
        Assert.True(client.ClosedWithin(Short));
    }

    [Fact]
    public void Token_for_another_call_is_refused()
    {
        var (_, relay, port) = _lab.Relay();
        var session = Allocate(relay);
        using var client = Join(port, "other-call", session.CallerToken, "alice");
        Assert.Equal(RefusalCode.UnknownToken, Assert.IsType<Refused>(client.Next()).Code);
    }

    [Fact]
    public void Reused_token_is_refused()
    {
        var (_, relay, port) = _lab.Relay();
        var session = Allocate(relay);
        using var first = Join(port, "call-1", session.CallerToken, "alice");
        Thread.Sleep(200);
        using var second = Join(port, "call-1", session.CallerToken, "mallory");
        Assert.Equal(RefusalCode.TokenUsed, Assert.IsType<Refused>(second.Next()).Code);
        // ... and once the session is paired, neither token opens it again.
        using var callee = Join(port, "call-1", session.CalleeToken, "bob");
        Assert.IsType<Joined>(first.Next());
        Assert.IsType<Joined>(callee.Next());
        using var third = Join(port, "call-1", session.CalleeToken, "mallory");
        Assert.IsType<Refused>(third.Next());
    }

    [Fact]
    public void Expired_token_is_refused()
    {
        var (_, relay, port) = _lab.Relay(s => s with { TokenTtlOrNull = TimeSpan.FromMilliseconds(300) });
        var session = Allocate(relay);
        Thread.Sleep(800);
        using var client = Join(port, "call-1", session.CallerToken, "alice");
        Assert.Equal(RefusalCode.UnknownToken, Assert.IsType<Refused>(client.Next()).Code);
    }

    [Fact]
    public void Junk_instead_of_join_is_refused()
    {
        var (_, _, port) = _lab.Relay();
        using var client = new RawClient(port);
        client.SendRaw([0, 0, 0, 2, 0xEE, 0]);
        Assert.Equal(RefusalCode.Protocol, Assert.IsType<Refused>(client.Next()).Code);
        Assert.True(client.ClosedWithin(Short));
    }

    [Fact]
    public async Task Session_quota_refuses_allocation_when_full()
    {
        var (_, relay, _) = _lab.Relay(s => s with { MaxSessions = 1 });
        Allocate(relay, "a");
        var refused = await relay.Ask<object>(new AllocateSession("b"), TimeSpan.FromSeconds(5));
        Assert.Contains("full", Assert.IsType<AllocationRefused>(refused).Reason);
    }

    [Fact]
    public async Task Paired_session_pipes_bytes_both_ways_unchanged()
    {
        var (_, relay, port) = _lab.Relay();
        var session = Allocate(relay);
        using var a = Join(port, "call-1", session.CallerToken, "alice");
        using var b = Join(port, "call-1", session.CalleeToken, "bob");
        Assert.IsType<Joined>(a.Next());
        Assert.IsType<Joined>(b.Next());

        var payload = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var sending = Task.Run(() => a.Stream.Write(payload));
        var received = ReadExactly(b.Stream, payload.Length);
        await sending.WaitAsync(Short);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(received));

        b.Stream.Write("pong"u8);
        Assert.Equal("pong"u8.ToArray(), ReadExactly(a.Stream, 4));
    }

    [Fact]
    public async Task Every_byte_written_just_before_a_side_closes_arrives()
    {
        // The relay reads at most one frame of akka.io.tcp.maximum-frame-size (128 KiB in CallLab)
        // per chunk; sizes straddle one, two and three chunks. Half the runs start the reader late,
        // so the last chunks are still queued inside the relay when the writer's side goes away.
        var (_, relay, port) = _lab.Relay();
        const int chunk = 128 * 1024;
        int[] sizes = [1, 4096, chunk - 1, chunk, chunk + 1, 2 * chunk - 1, 2 * chunk + 1, 3 * chunk + 7, 700_000];
        var random = new Random(8);
        for (var run = 0; run < 24; run++)
        {
            var size = run < sizes.Length ? sizes[run] : random.Next(1, 4 * chunk);
            var callId = $"close-{run}";
            var session = Allocate(relay, callId);
            using var writer = new TcpClient("127.0.0.1", port);
            using var reader = new TcpClient("127.0.0.1", port);
            writer.GetStream().Write(FrameCodec.Encode(new Join(callId, session.CallerToken, "alice")));
            reader.GetStream().Write(FrameCodec.Encode(new Join(callId, session.CalleeToken, "bob")));
            var joined = FrameCodec.Encode(new Joined(callId));
            Assert.Equal(joined, ReadExactly(writer.GetStream(), joined.Length));
            Assert.Equal(joined, ReadExactly(reader.GetStream(), joined.Length));

            var payload = new byte[size];
            random.NextBytes(payload);
            var writing = Task.Run(() => { writer.GetStream().Write(payload); writer.Close(); });
            if (run % 2 == 1) await Task.Delay(50);
            var received = ReadToEnd(reader.GetStream());
            await writing.WaitAsync(Short);
            Assert.True(received.Length == size, $"run {run}: wrote {size} bytes then closed, the other side got {received.Length}");
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(received));
        }
    }

    [Fact]
    public void Reader_that_stops_reading_stalls_the_writer_instead_of_filling_relay_memory()
    {
        var (_, relay, port) = _lab.Relay();
        var session = Allocate(relay);
        using var a = Join(port, "call-1", session.CallerToken, "alice");
        using var b = Join(port, "call-1", session.CalleeToken, "bob");
        Assert.IsType<Joined>(a.Next());
        Assert.IsType<Joined>(b.Next());
        // b never reads. a writes until its socket blocks for a second.
        var chunk = new byte[64 * 1024];
        long written = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var socket = GetSocket(a);
        socket.SendTimeout = 1000;
        while (DateTime.UtcNow < deadline)
        {
            try { socket.Send(chunk); written += chunk.Length; }
            catch (SocketException) { break; }
        }
        Assert.True(DateTime.UtcNow < deadline, "the writer was never stalled");
        // Socket buffers on both hops plus at most a couple of chunks inside the relay: a few MiB, not the stream.
        Assert.True(written < 32L * 1024 * 1024, $"{written} bytes accepted while nobody read");
    }

    [Fact]
    public void Idle_session_is_closed()
    {
        var (_, relay, port) = _lab.Relay(s => s with { IdleTimeoutOrNull = TimeSpan.FromMilliseconds(500) });
        var session = Allocate(relay);
        using var a = Join(port, "call-1", session.CallerToken, "alice");
        using var b = Join(port, "call-1", session.CalleeToken, "bob");
        Assert.IsType<Joined>(a.Next());
        Assert.IsType<Joined>(b.Next());
        Assert.True(a.ClosedWithin(Short));
        Assert.True(b.ClosedWithin(Short));
    }

    [Fact]
    public void Byte_quota_closes_the_session()
    {
        var (_, relay, port) = _lab.Relay(s => s with { MaxBytesPerDirection = 100_000 });
        var session = Allocate(relay);
        using var a = Join(port, "call-1", session.CallerToken, "alice");
        using var b = Join(port, "call-1", session.CalleeToken, "bob");
        Assert.IsType<Joined>(a.Next());
        Assert.IsType<Joined>(b.Next());
        try { a.Stream.Write(new byte[300_000]); } catch (IOException) { }
        Assert.True(b.ClosedWithin(Short));
    }

    private static Socket GetSocket(RawClient client) =>
        (Socket)typeof(NetworkStream).GetProperty("Socket", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!.GetValue(client.Stream)!;

    /// <summary>Everything until the relay closes the connection (bounded by the read timeout).</summary>
    private static byte[] ReadToEnd(NetworkStream stream)
    {
        stream.ReadTimeout = 10_000;
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        try { while ((read = stream.Read(buffer)) > 0) all.Write(buffer, 0, read); }
        catch (IOException) { } // reset instead of a clean close: what arrived is what counts
        return all.ToArray();
    }

    private static byte[] ReadExactly(NetworkStream stream, int count)
    {
        var buffer = new byte[count];
        stream.ReadTimeout = 10_000;
        stream.ReadExactly(buffer);
        return buffer;
    }
}
