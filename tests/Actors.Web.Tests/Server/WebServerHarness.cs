using System.Net;
using System.Net.Sockets;
using System.Text;
using Actors.Net.Tcp;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;

namespace Actors.Web.Tests.Server;

/// <summary>
/// A web server on a free loopback port over a fresh temporary document root, plus raw-socket
/// helpers for the cases a polite client (HttpClient) would never send.
/// </summary>
public abstract class WebServerHarness : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    protected readonly DirectoryInfo Root = Directory.CreateTempSubdirectory("actors-web-root-");
    protected readonly DirectoryInfo Outside = Directory.CreateTempSubdirectory("actors-web-outside-");
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    protected WebServerHarness() : base("""
        akka.loglevel = WARNING
        akka.io.tcp { maximum-frame-size = 128 KiB, send-buffer-size = 256 KiB, receive-buffer-size = 256 KiB }
        """) { }

    protected static WebServerSettings Settings(string root) => new(
        Host: "127.0.0.1", Port: 0, Root: root, MaxConnections: 1000,
        Limits: new HttpLimits(MaxRequestLineBytes: 1024, MaxHeaderBytes: 4096, MaxHeaderCount: 50, MaxBodyBytes: 64 * 1024),
        HeaderTimeout: TimeSpan.FromMilliseconds(800), IdleTimeout: TimeSpan.FromSeconds(5),
        WriteTimeout: TimeSpan.FromSeconds(5), ChunkSize: 64 * 1024, DirectoryListing: true, AccessLog: false);

    protected async Task<int> StartServer(WebServerSettings? settings = null, IReadOnlyList<HttpRoute>? routes = null)
    {
        var server = Sys.ActorOf(WebServer.Props(settings ?? Settings(Root.FullName), routes));
        var listening = await server.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, Timeout);
        return ((IPEndPoint)listening.LocalAddress).Port;
    }

    protected string WriteFile(string relativePath, string content) => WriteFile(relativePath, Encoding.UTF8.GetBytes(content));

    protected string WriteFile(string relativePath, byte[] content)
    {
        var path = Path.Combine(Root.FullName, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    protected static async Task<TcpClient> Connect(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    /// <summary>Sends raw bytes and reads until the server closes the connection (bounded by time).</summary>
    protected static async Task<string> SendAndReadToClose(int port, string request)
    {
        using var client = await Connect(port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        return await ReadToClose(stream);
    }

    protected static async Task<string> ReadToClose(NetworkStream stream)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (IOException) { } // a reset after the response still leaves what we read
        catch (OperationCanceledException) { throw new TimeoutException("the server did not close the connection: " + Encoding.Latin1.GetString(received.ToArray())); }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>One HTTP/1.1 GET on a kept-alive connection, and its response.</summary>
    protected static async Task<HttpResponse> GetKeptAlive(NetworkStream stream, string path)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        return (await ReadResponses(stream, 1))[0];
    }

    /// <summary>Reads exactly <paramref name="count"/> responses from a kept-alive connection.</summary>
    protected static Task<List<HttpResponse>> ReadResponses(NetworkStream stream, int count, bool head = false) =>
        new ResponseReader(stream).Read(count, head);

    /// <summary>Reads responses off one connection, keeping bytes that belong to the next response.</summary>
    protected sealed class ResponseReader(NetworkStream stream)
    {
        private readonly HttpResponseDecoder _decoder = new();

        public async Task<List<HttpResponse>> Read(int count, bool head = false)
        {
            var responses = new List<HttpResponse>();
            var buffer = new byte[16 * 1024];
            using var cts = new CancellationTokenSource(Timeout);
            if (head) _decoder.ExpectNoBody();
            while (responses.Count < count)
            {
                var status = _decoder.Next(out var response, out var error);
                if (status == DecodeStatus.Request) { responses.Add(response!); continue; }
                if (status == DecodeStatus.Error) throw new InvalidOperationException($"bad response: {error}");
                var read = await stream.ReadAsync(buffer, cts.Token);
                if (read == 0) throw new EndOfStreamException($"closed after {responses.Count} responses");
                _decoder.Feed(buffer.AsSpan(0, read));
            }
            return responses;
        }
    }

    protected static string StatusLine(string response) => response.Split("\r\n")[0];

    public new void Dispose()
    {
        base.Dispose();
        Root.Delete(recursive: true);
        Outside.Delete(recursive: true);
    }
}
