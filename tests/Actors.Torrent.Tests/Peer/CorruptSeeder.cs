using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Tests.Peer;

/// <summary>A hostile test peer: claims every piece, unchokes, and answers every request with garbage.</summary>
public sealed class CorruptSeeder : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TorrentMetainfo _torrent;

    public CorruptSeeder(TorrentMetainfo torrent)
    {
        _torrent = torrent;
        _listener.Start();
        _ = AcceptLoop();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Connections { get; private set; }

    private async Task AcceptLoop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Connections++;
                _ = Serve(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        try
        {
            var handshake = new byte[Handshake.Length];
            await stream.ReadExactlyAsync(handshake, _stop.Token);
            await stream.WriteAsync(new Handshake(new byte[8], _torrent.InfoHash.ToArray(), "-XX0000-corruptcorru"u8.ToArray()).Encode(), _stop.Token);
            await stream.WriteAsync(WireEncoder.Encode(new WireMessage.Bitfield(PieceSet.Full(_torrent.PieceCount).ToWire())), _stop.Token);
            await stream.WriteAsync(WireEncoder.Encode(WireMessage.Unchoke.Instance), _stop.Token);
            var header = new byte[4];
            var random = new Random(7);
            while (true)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = BinaryPrimitives.ReadInt32BigEndian(header);
                var body = new byte[length];
                await stream.ReadExactlyAsync(body, _stop.Token);
                if (length != 13 || body[0] != (byte)WireMessageId.Request) continue;
                var block = new byte[BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9))];
                random.NextBytes(block);
                await stream.WriteAsync(WireEncoder.Piece(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)),
                    BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5)), block), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException or SocketException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
