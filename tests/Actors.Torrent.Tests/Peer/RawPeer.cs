using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Tests.Peer;

/// <summary>A hand-driven peer over a plain socket, for tests that must say exactly what a peer says (and lie).</summary>
public sealed class RawPeer : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly WireDecoder _decoder;
    private readonly Queue<WireMessage> _received = new();

    private RawPeer(TcpClient client, WireLimits limits, bool expectHandshake)
    {
        _client = client;
        _stream = client.GetStream();
        _decoder = new WireDecoder(limits, expectHandshake);
    }

    public Handshake? TheirHandshake => _decoder.Handshake;

    public static async Task<RawPeer> Connect(int port, WireLimits limits)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(5));
        return new RawPeer(client, limits, expectHandshake: true);
    }

    /// <summary>
    /// Dials a torrent on loopback, handshakes with a fresh peer id and reads its handshake.
    /// <paramref name="reserved"/>: ours (Fast and extensions) unless given; eight zero bytes make a plain BEP 3 peer.
    /// </summary>
    public static async Task<RawPeer> Handshaken(int port, TorrentMetainfo torrent, byte[]? reserved = null)
    {
        var peer = await Connect(port, new WireLimits(torrent.PieceCount));
        await peer.Send(new Actors.Torrent.Peer.Wire.Handshake(reserved ?? Actors.Torrent.Peer.Wire.Handshake.OurReserved(), torrent.InfoHash.ToArray(), TorrentSettings.NewPeerId()).Encode());
        await peer.Handshake();
        return peer;
    }

    public static async Task<RawPeer> Accept(TcpListener listener, WireLimits limits)
    {
        var client = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new RawPeer(client, limits, expectHandshake: true);
    }

    public Task Send(byte[] bytes) => _stream.WriteAsync(bytes).AsTask().WaitAsync(TimeSpan.FromSeconds(5));

    /// <summary>The next message matching <paramref name="match"/> (others are skipped), or a TimeoutException.</summary>
    public async Task<T> Next<T>(Func<T, bool>? match = null, double seconds = 10) where T : WireMessage
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            while (_received.TryDequeue(out var message))
                if (message is T t && (match is null || match(t))) return t;
            var n = await _stream.ReadAsync(buffer, cts.Token);
            if (n == 0) throw new EndOfStreamException("the peer closed the connection");
            var decoded = new List<WireMessage>();
            _decoder.Decode(buffer.AsSpan(0, n), decoded);
            foreach (var m in decoded) _received.Enqueue(m);
        }
    }

    /// <summary>Reads until the handshake arrived.</summary>
    public async Task<Handshake> Handshake()
    {
        var buffer = new byte[68];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!_decoder.HandshakeDone)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(0, 68), cts.Token);
            if (n == 0) throw new EndOfStreamException("the peer closed the connection");
            var decoded = new List<WireMessage>();
            _decoder.Decode(buffer.AsSpan(0, n), decoded);
            foreach (var m in decoded) _received.Enqueue(m);
        }
        return _decoder.Handshake!;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
