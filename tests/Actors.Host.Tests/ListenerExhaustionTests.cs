using System.Net;
using System.Net.Sockets;
using Actors.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Host.Tests;

/// <summary>
/// Graceful exhaustion of an accepting role (issue 16): <c>actors web</c> under a descriptor limit of
/// 200, started through <c>prlimit</c>, and 300 clients that connect and stay silent. Before the
/// listener's descriptor cap the process died within a second ("Out of memory.": with no
/// descriptor left the runtime cannot create its own handles). It must survive, refuse what it has
/// no room for with counted warnings, and serve again once the clients leave.
/// </summary>
public sealed class ListenerExhaustionTests(ITestOutputHelper output) : IDisposable
{
    private const int Clients = 300;
    private readonly string _root = Directory.CreateTempSubdirectory("actors-fd-web-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [FactRequiringTools("prlimit")]
    public async Task Web_under_200_descriptors_survives_300_idle_clients_refusing_what_it_cannot_hold_and_serves_after()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "a.txt"), "still here\n");
        var port = ActorsProcess.FreePort();
        using var web = new ProcessRunner("prlimit", ["--nofile=200:200", "--", "dotnet", ActorsProcess.ActorsDll,
            "web", "--root", _root, "--port", $"{port}", "--host", "127.0.0.1"], name: "actors web (200 descriptors)");
        await ActorsProcess.WaitForPort(port, TimeSpan.FromSeconds(60));

        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(socket);
                using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await socket.ConnectAsync(IPAddress.Loopback, port, connect.Token); }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException) { } // refused by a full backlog: fine
            }
            await Task.Delay(3000); // the listener works through its backlog
            Assert.False(web.HasExited, "the web node died under descriptor exhaustion:\n" + web.Output);
        }
        finally
        {
            foreach (var socket in clients) socket.Dispose();
        }

        // The clients are gone: it serves again.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string? body = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (body is null && DateTime.UtcNow < deadline)
        {
            try { body = await http.GetStringAsync($"http://127.0.0.1:{port}/a.txt"); }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { await Task.Delay(250); }
        }
        var log = web.Lines.ToArray();
        foreach (var line in log.Take(40)) output.WriteLine(line);
        Assert.Equal("still here\n", body);
        Assert.False(web.HasExited);
        Assert.DoesNotContain(log, l => l.Contains("Out of memory", StringComparison.OrdinalIgnoreCase) || l.Contains("Unhandled exception", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("connections on 127.0.0.1:", StringComparison.Ordinal) && l.Contains("(ulimit -n)", StringComparison.Ordinal));
        // Our refusals: one warning per 10 s with a count, never one per client.
        Assert.InRange(log.Count(l => l.Contains("refused since the last warning", StringComparison.Ordinal)), 1, 3);
        web.Signal("TERM");
        Assert.Equal(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}
