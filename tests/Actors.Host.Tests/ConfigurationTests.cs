using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Host.Roles;
using Actors.Net.Mailboxes;
using Actors.Net.Sockets;
using Actors.Net.Udp;
using Actors.Torrent.Tracker;
using Xunit;

namespace Actors.Host.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public void Every_node_binds_the_tracker_wire_serializer_as_the_tracker_tests_do()
    {
        // cluster.conf (not only tracker.conf) binds it, so `web --tracker` nodes speak it too; the
        // tracker's own tests configure it from TrackerWireSerializer.Hocon.
        foreach (var config in new[] { ConfigLoader.Load(["seed"], "", null), Akka.Configuration.ConfigurationFactory.ParseString(TrackerWireSerializer.Hocon) })
        {
            var bindings = config.GetConfig("akka.actor.serialization-bindings").AsEnumerable().ToDictionary(e => e.Key.Trim('"'), e => e.Value.GetString());
            var wire = typeof(TrackerWire.IMessage);
            var name = bindings[wire.FullName + ", " + wire.Assembly.GetName().Name];
            var serializerType = Type.GetType(config.GetString($"akka.actor.serializers.{name}"), throwOnError: true);
            Assert.Equal(typeof(TrackerWireSerializer), serializerType);
        }
    }

    [Fact]
    public void A_web_node_reads_web_conf_over_tracker_conf_and_a_tracker_node_the_reverse()
    {
        Assert.Equal(8080, ConfigLoader.Load(["web", "tracker"], "", null).GetInt("actors.web.port"));
        Assert.Equal(6969, ConfigLoader.Load(["tracker", "web"], "", null).GetInt("actors.web.port"));
        Assert.Equal("30m", ConfigLoader.Load(["web", "tracker"], "", null).GetString("actors.tracker.interval"));
    }

    [Fact]
    public void A_process_of_many_peers_takes_the_small_frame_and_the_compact_mailbox_and_a_few_peers_keep_the_bulk_settings()
    {
        var loaded = ConfigLoader.Load(["peer"], "", null);
        var many = loaded.GetInt("actors.peer.many-peers");
        foreach (var count in new[] { 1, 20, many - 1 })
        {
            var config = PeerSystemConfig.For(loaded, count);
            Assert.Equal(32 * 1024, config.GetByteSize("akka.io.tcp.maximum-frame-size"));
            // Akka's own default mailbox (its reference configuration; ours does not name one).
            Assert.DoesNotContain(nameof(CompactMailbox), config.GetString("akka.actor.default-mailbox.mailbox-type") ?? "");
        }
        foreach (var count in new[] { many, 1000 })
        {
            var config = PeerSystemConfig.For(loaded, count);
            Assert.Equal(loaded.GetByteSize("actors.peer.many-peers-frame-size"), config.GetByteSize("akka.io.tcp.maximum-frame-size"));
            Assert.Equal(4 * 1024, config.GetByteSize("akka.io.tcp.maximum-frame-size"));
            foreach (var key in new[] { "akka.actor.default-mailbox.mailbox-type", "akka.actor.mailbox.unbounded-queue-based.mailbox-type" })
                Assert.Equal(typeof(CompactMailbox), Type.GetType(config.GetString(key), throwOnError: true));
        }
    }

    [Fact]
    public void Every_role_with_a_udp_handler_configures_the_datagram_mailbox_as_its_defaults_say()
    {
        // cluster.conf carries the block (every role loads it); DatagramMailbox.DefaultConfig is what
        // Ensure installs where a configuration lacks it: both must say the same.
        foreach (var roles in new[] { new[] { "tracker" }, ["peer"], ["caller"], ["dht"], ["web", "tracker"] })
        {
            var config = ConfigLoader.Load(roles, "", null);
            var type = Type.GetType(config.GetString(DatagramMailbox.Id + ".mailbox-type"), throwOnError: true);
            Assert.Equal(typeof(DatagramMailbox), type);
            Assert.Equal(DatagramMailbox.DefaultBound, config.GetInt(DatagramMailbox.Id + ".max-queued-datagrams"));
            Assert.Equal(DatagramMailbox.DefaultConfig.GetTimeSpan(DatagramMailbox.Id + ".drop-log-interval"),
                config.GetTimeSpan(DatagramMailbox.Id + ".drop-log-interval"));
        }
    }

    [Fact]
    public void A_frame_raised_without_its_socket_buffers_is_refused_at_start_not_by_every_connection()
    {
        // Every role's shipped sizes pass.
        foreach (var role in new[] { "web", "tracker", "peer", "relay", "rendezvous", "caller", "lab" })
            ConfigLoader.Load([role], "", null);

        var refused = Assert.Throws<UsageException>(() => ConfigLoader.Load(["peer"], "akka.io.tcp.maximum-frame-size = 64 KiB", null));
        Assert.Contains("akka.io.tcp.send-buffer-size (65536 bytes) must be at least twice akka.io.tcp.maximum-frame-size (65536 bytes)", refused.Message);

        var receive = Assert.Throws<UsageException>(() => ConfigLoader.Load(["peer"], "akka.io.tcp { maximum-frame-size = 64 KiB, send-buffer-size = 128 KiB }", null));
        Assert.Contains("receive-buffer-size", receive.Message);

        ConfigLoader.Load(["peer"], "akka.io.tcp { maximum-frame-size = 64 KiB, send-buffer-size = 128 KiB, receive-buffer-size = 128 KiB }", null);

        // A process of many peers takes its frame after loading: checked there, named by its own setting.
        var manyPeers = ConfigLoader.Load(["peer"], "actors.peer.many-peers-frame-size = 64 KiB", null);
        PeerSystemConfig.For(manyPeers, 1); // a lone peer does not take it
        var many = Assert.Throws<UsageException>(() => PeerSystemConfig.For(manyPeers, 1000));
        Assert.Contains("must be at least twice actors.peer.many-peers-frame-size (65536 bytes)", many.Message);
    }

    [Fact]
    public void The_relays_frame_stays_below_the_large_object_heap()
    {
        // Every read is copied into a new array of up to a frame (Akka.IO 1.5.73); at 85,000 bytes
        // or more each would be a large object, freed only by a full collection (config/relay.conf).
        Assert.True(ConfigLoader.Load(["relay"], "", null).GetByteSize("akka.io.tcp.maximum-frame-size") < 85_000);
    }

    [Fact]
    public void Every_role_runs_its_actors_on_dotnet_s_thread_pool_whose_idle_workers_do_not_spin()
    {
        // The two go together (src/Actors.Net/README.md, "Threads that sleep"): either alone was
        // measured without a gain, Akka's fork-join threads spin whatever the runtime says.
        foreach (var role in new[] { "seed", "web", "tracker", "peer", "rendezvous", "relay", "caller", "lab", "agent" })
        {
            var config = ConfigLoader.Load([role], "", null);
            foreach (var dispatcher in new[] { "default-dispatcher", "default-blocking-io-dispatcher" })
                Assert.Equal("default-executor", config.GetString($"akka.actor.{dispatcher}.executor"));
        }
        // actors.runtimeconfig.json, built from Actors.Host.csproj and copied beside the tests.
        var runtimeConfig = Path.Combine(AppContext.BaseDirectory, "actors.runtimeconfig.json");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }

    [Fact]
    public void Only_the_relay_runs_socket_completions_inline_and_an_explicit_variable_wins()
    {
        const string variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        foreach (var role in new[] { "relay", "web", "tracker", "peer", "rendezvous", "caller", "lab", "seed" })
        {
            var environment = new Dictionary<string, string>();
            var inline = InlineSocketCompletions.Apply(ConfigLoader.Load([role], "", null), name => environment.GetValueOrDefault(name), (name, value) => environment[name] = value);
            Assert.Equal(role == "relay", inline);
            Assert.Equal(role == "relay" ? "1" : null, environment.GetValueOrDefault(variable));
        }
        // Set by hand either way: left as it is, and reported as it is.
        foreach (var (explicitValue, expected) in new[] { ("0", false), ("1", true) })
        {
            var environment = new Dictionary<string, string> { [variable] = explicitValue };
            Assert.Equal(expected, InlineSocketCompletions.Apply(ConfigLoader.Load(["relay"], "", null), name => environment.GetValueOrDefault(name), (name, value) => environment[name] = value));
            Assert.Equal(explicitValue, environment[variable]);
        }
    }
}
