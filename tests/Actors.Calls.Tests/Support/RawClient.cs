using System.Net.Sockets;
using Actors.Calls.Protocol;

namespace Actors.Calls.Tests.Support;

/// <summary>A blocking test client speaking raw frames (or raw bytes) to a server.</summary>
public sealed class RawClient : IDisposable
{
    private readonly TcpClient _client = new();
    private readonly FrameDecoder _decoder = new();
    private readonly byte[] _buffer = new byte[64 * 1024];

    public RawClient(int port)
    {
        _client.Connect("127.0.0.1", port);
        _client.ReceiveTimeout = 5000;
    }

    public NetworkStream Stream => _client.GetStream();
    /// <summary>The local port of this connection: what the rendezvous observes on loopback.</summary>
    public int LocalPort => ((System.Net.IPEndPoint)_client.Client.LocalEndPoint!).Port;

    public void Send(CallMessage message) => Stream.Write(FrameCodec.Encode(message));
    public void SendRaw(byte[] bytes) => Stream.Write(bytes);

    /// <summary>The next frame, or null if the server closed the connection first.</summary>
    public CallMessage? Next(TimeSpan? timeout = null)
    {
        _client.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        for (var i = 0; i < 10_000; i++)
        {
            var status = _decoder.Next(out var message, out var error);
            if (status == DecodeStatus.Message) return message;
            if (status == DecodeStatus.Error) throw new InvalidDataException(error);
            int read;
            try { read = Stream.Read(_buffer); }
            catch (IOException) { return null; }
            if (read == 0) return null;
            _decoder.Feed(_buffer.AsSpan(0, read));
        }
        throw new InvalidOperationException("too many reads");
    }

    /// <summary>Reads frames until one of type T (skipping others, e.g. pings), or null when closed.</summary>
    public T? Next<T>(TimeSpan? timeout = null) where T : CallMessage
    {
        for (var i = 0; i < 100; i++)
        {
            var message = Next(timeout);
            if (message is null) return null;
            if (message is T t) return t;
        }
        throw new InvalidOperationException($"no {typeof(T).Name} in 100 frames");
    }

    /// <summary>True when the server closes the connection within the timeout (frames before that are skipped).</summary>
    public bool ClosedWithin(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try { if (Next(deadline - DateTime.UtcNow) is null) return true; }
            catch (IOException) { return false; }
            catch (InvalidDataException) { return true; }
        }
        return false;
    }

    /// <summary>
    /// Hello, challenge, register with the given secret; returns the server's answer to Register.
    /// Speaks version 1 unless told otherwise: a bare client that never answers the rendezvous's
    /// RTT pings and is never asked to punch (version 2 adds both).
    /// </summary>
    public CallMessage? Register(string id, string secret, ushort listenPort = 0, ushort version = 1)
    {
        Send(new Hello(version, "test"));
        var challenge = Next() as Challenge ?? throw new InvalidOperationException("no challenge");
        Send(new Actors.Calls.Protocol.Register(id, CallAuth.Proof(secret, challenge.Nonce, id), listenPort));
        return Next();
    }

    public void Dispose() => _client.Dispose();
}
