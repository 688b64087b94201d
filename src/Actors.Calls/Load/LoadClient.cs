using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Calls.Protocol;

namespace Actors.Calls.Load;

/// <summary>
/// A bare call-protocol client for load generation: registers at a rendezvous (no listener, so
/// never reachable), places or answers one call and dials the relay it is told to. Plain sockets
/// and the shared codec, no actors, so thousands of them fit in one process (the benchmark's
/// <c>calls</c> scenario and <c>actors caller load</c>, which the Lab's calls sweep runs).
/// </summary>
public sealed class LoadClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private LoadClient(string id, TcpClient tcp)
    {
        Id = id;
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public string Id { get; }

    public static async Task<LoadClient> RegisterAsync(IPEndPoint rendezvous, string id, string secret, CancellationToken cancel)
    {
        var tcp = new TcpClient(rendezvous.AddressFamily) { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(rendezvous, cancel);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
        var client = new LoadClient(id, tcp);
        try
        {
            // Version 1: the load measures the relay, and a version-2 pair would be told to punch.
            await Send(client._stream, new Hello(FrameCodec.MinVersion, "actors-load"), cancel);
            var challenge = await client.ExpectAsync<Challenge>(cancel);
            await Send(client._stream, new Register(id, CallAuth.Proof(secret, challenge.Nonce, id), 0), cancel);
            await client.ExpectAsync<Registered>(cancel);
            await client.ExpectAsync<ReachabilityResult>(cancel);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Calls <paramref name="callee"/> (which must be unreachable too, so the path is a relay) and
    /// returns both ends' media sockets, joined at the relay.
    /// </summary>
    public async Task<(TcpClient Caller, TcpClient Callee)> CallThroughRelayAsync(LoadClient callee, string callId, CancellationToken cancel)
    {
        await Send(_stream, new PlaceCall(callId, callee.Id), cancel);
        var ring = await callee.ExpectAsync<Ring>(cancel);
        await Send(callee._stream, new Accept(ring.CallId), cancel);
        var mine = await ExpectAsync<Connect>(cancel);
        var theirs = await callee.ExpectAsync<Connect>(cancel);
        if (mine.Path != PathKind.Relay) throw new InvalidOperationException($"expected a relay path, got {mine.Path}");
        TcpClient? a = null, b = null;
        try
        {
            a = await JoinAsync(mine, Id, cancel);
            b = await JoinAsync(theirs, callee.Id, cancel);
            await ExpectOn<Joined>(a.GetStream(), cancel);
            await ExpectOn<Joined>(b.GetStream(), cancel);
            return (a, b);
        }
        catch
        {
            a?.Dispose();
            b?.Dispose();
            throw;
        }
    }

    private static async Task<TcpClient> JoinAsync(Connect connect, string id, CancellationToken cancel)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(IPAddress.Parse(connect.Host), connect.Port, cancel);
            await Send(tcp.GetStream(), new Join(connect.CallId, connect.Token, id), cancel);
            return tcp;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    private Task<T> ExpectAsync<T>(CancellationToken cancel) where T : CallMessage => ExpectOn<T>(_stream, cancel);

    /// <summary>The next message other than Ping/Pong, which must be a <typeparamref name="T"/>; a TimeoutException after 20 s.</summary>
    private static async Task<T> ExpectOn<T>(NetworkStream stream, CancellationToken cancel) where T : CallMessage
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(Timeout);
        try
        {
            while (true)
            {
                var message = await Receive(stream, timeout.Token);
                switch (message)
                {
                    case T wanted: return wanted;
                    case Ping or Pong: continue;
                    default: throw new InvalidOperationException($"expected {typeof(T).Name}, got {message}");
                }
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"no {typeof(T).Name} within {Timeout.TotalSeconds} s");
        }
    }

    private static async Task Send(NetworkStream stream, CallMessage message, CancellationToken cancel) =>
        await stream.WriteAsync(FrameCodec.Encode(message), cancel);

    private static async Task<CallMessage> Receive(NetworkStream stream, CancellationToken cancel)
    {
        var header = new byte[FrameCodec.HeaderSize];
        await stream.ReadExactlyAsync(header, cancel);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length is 0 or > FrameCodec.DefaultMaxFrame) throw new InvalidDataException($"frame length {length}");
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancel);
        return FrameCodec.DecodeBody(body);
    }

    public void Dispose() => _tcp.Dispose();
}
