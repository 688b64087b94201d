using System.Net.Sockets;
using Akka.IO;

namespace Actors.Calls.Transport;

/// <summary>
/// SO_REUSEADDR and SO_REUSEPORT on an outgoing Akka.IO socket, set before it is bound: so the
/// socket that punches a hole to the peer can share the local port of the rendezvous connection
/// (the port whose NAT mapping the rendezvous observed). Both sockets must carry the option. .NET
/// has no name for SO_REUSEPORT, so on Linux it is set raw (SOL_SOCKET = 1, SO_REUSEPORT = 15);
/// elsewhere only SO_REUSEADDR, which lets BSD-like stacks share a port between connected sockets.
/// </summary>
public sealed class ReusePort : Inet.SocketOption
{
    public static readonly ReusePort Instance = new();
    private const int SolSocket = 1, SoReuseAddr = 2, SoReusePort = 15;

    private ReusePort() { }

    public override void BeforeConnect(Socket s) => Apply(s);

    public static void Apply(Socket s)
    {
        if (OperatingSystem.IsLinux())
        {
            s.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            s.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
        }
        else s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
    }
}
