using Xunit;

namespace Actors.Host.Tests;

public sealed class CommandLineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Help_lists_the_roles()
    {
        using var actors = new ActorsProcess("--help");
        Assert.Equal(0, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.TrimStart().StartsWith("web "));
        Assert.Contains(actors.Lines, l => l.TrimStart().StartsWith("seed "));
    }

    [Fact]
    public async Task Web_help_names_each_option_and_its_config_key()
    {
        using var actors = new ActorsProcess("web", "--help");
        Assert.Equal(0, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.Contains("--root DIR") && l.Contains("[actors.web.root]"));
        Assert.Contains(actors.Lines, l => l.Contains("--seed HOST:PORT"));
    }

    [Theory]
    [InlineData("--port", "eighty", "actors.web.port")]
    [InlineData("--port", "70000", "actors.web.port")]
    [InlineData("--idle-timeout", "soon", "actors.web.idle-timeout")]
    [InlineData("--access-log", "maybe", "actors.web.access-log")]
    [InlineData("--seed", "nowhere", "actors.cluster.seeds")]
    public async Task A_bad_value_fails_at_start_with_one_line_naming_the_key(string option, string value, string key)
    {
        using var actors = new ActorsProcess("web", "--root", AppContext.BaseDirectory, option, value);
        Assert.Equal(2, await actors.WaitForExit(Timeout));
        var line = Assert.Single(actors.Lines, l => l.Contains("configuration error"));
        Assert.Contains(key, line);
    }

    [Fact]
    public async Task A_missing_document_root_is_a_configuration_error()
    {
        using var actors = new ActorsProcess("web", "--root", "/no/such/folder", "--port", "0");
        Assert.Equal(2, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.Contains("actors.web.root") && l.Contains("does not exist"));
    }

    [Fact]
    public async Task An_unknown_option_is_a_usage_error()
    {
        using var actors = new ActorsProcess("web", "--prot", "80");
        Assert.Equal(2, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.Contains("unknown option --prot"));
    }

    [Fact]
    public async Task Config_file_overrides_defaults_and_command_line_overrides_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("actors-config-");
        try
        {
            var file = Path.Combine(dir.FullName, "my.conf");
            var fromFile = ActorsProcess.FreePort();
            File.WriteAllText(file, $"actors.web {{ port = {fromFile}\n root = \"{dir.FullName}\" }}\nactors.web.host = \"127.0.0.1\"");
            using (var actors = new ActorsProcess("web", "--config", file))
            {
                await ActorsProcess.WaitForPort(fromFile, Timeout);
                actors.Signal("TERM");
                Assert.Equal(0, await actors.WaitForExit(Timeout));
            }
            var fromCommandLine = ActorsProcess.FreePort();
            using (var actors = new ActorsProcess("web", "--config", file, "--port", fromCommandLine.ToString()))
            {
                await ActorsProcess.WaitForPort(fromCommandLine, Timeout);
                actors.Signal("INT");
                Assert.Equal(0, await actors.WaitForExit(Timeout));
                Assert.Contains(actors.Lines, l => l.Contains($"Listening on 127.0.0.1:{fromCommandLine}"));
            }
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task A_port_in_use_makes_the_node_exit_non_zero_with_the_reason()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;
        using var actors = new ActorsProcess("web", "--root", AppContext.BaseDirectory, "--host", "127.0.0.1", "--port", port.ToString());
        Assert.Equal(1, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.Contains($"cannot listen on 127.0.0.1:{port}"));
    }
}
