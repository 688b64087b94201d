using Actors.Lab.Agent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Lab.Tests;

/// <summary>
/// The lab in this process: a one-node cluster (role lab) running a LabNode on a free loopback
/// port, its URL read from the file it writes, and an HTTP client. Tests that talk to the lab's
/// HTTP API derive from it.
/// </summary>
public abstract class InProcessLab : TestKit, IAsyncLifetime
{
    protected const string Token = "0123456789abcdef0123";
    protected readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };
    protected readonly string Dir = Directory.CreateTempSubdirectory("lab-node-").FullName;

    /// <summary>The lab's base URL, once <see cref="InitializeAsync"/> has run.</summary>
    protected Uri Lab { get; private set; } = null!;

    protected InProcessLab() : base(ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.cluster.roles = [lab]
        akka.loglevel = WARNING
        """).WithFallback(ConfigurationFactory.ParseString(LabSerializer.Hocon)))
    { }

    /// <summary>Actors the test needs beside the lab (an agent, say), started once the lab is.</summary>
    protected virtual void StartAlongside() { }

    public async Task InitializeAsync()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        var urlFile = Path.Combine(Dir, "lab.url");
        var settings = new LabSettings("127.0.0.1", 0, Token, "", urlFile, Path.Combine(Dir, "nodes"));
        Sys.ActorOf(Props.Create(() => new Parent(LabNode.Props(settings, Actors.Lab.Links.LinkManager.Props()))), "lab");
        StartAlongside();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var url = "";
        while (url.Length == 0 && DateTime.UtcNow < deadline) // the file may exist a moment before it holds the URL
        {
            await Task.Delay(50);
            url = File.Exists(urlFile) ? (await File.ReadAllTextAsync(urlFile)).Trim() : "";
        }
        Lab = new Uri(url.Length > 0 ? url : throw new TimeoutException("the lab wrote no URL within 30 s"));
    }

    public Task DisposeAsync()
    {
        Http.Dispose();
        Directory.Delete(Dir, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Puts the lab at /user/lab/lab, where agents look for it (as RoleGuardian does in the host).</summary>
    private sealed class Parent : ReceiveActor
    {
        public Parent(Props child) => Context.ActorOf(child, "lab");
    }
}
