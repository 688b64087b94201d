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

/// <summary>The command line is built from the commands' declarations: a new command or option needs no parsing code.</summary>
public sealed class DeclaredCommandLineTests
{
    private sealed class Probe(IReadOnlyList<Actors.Host.Cli.CliOption> options, IReadOnlyList<Actors.Host.Cli.CliCommand> subcommands) : Actors.Host.Roles.IRoleCommand
    {
        public Actors.Host.Cli.ParsedArguments? Seen { get; private set; }
        public string Name => "probe";
        public string Summary => "a command declared in a test";
        public IReadOnlyList<Actors.Host.Cli.CliOption> Options => options;
        public IReadOnlyList<Actors.Host.Cli.CliCommand> Subcommands => subcommands;
        public Task<int> RunAsync(Actors.Host.Cli.ParsedArguments args) { Seen = args; return Task.FromResult(7); }
    }

    private static readonly Actors.Host.Cli.CliOption[] Options =
    [
        new("--size", "probe.size", "a value", "N"),
        new("--peer", "probe.peers", "repeatable", "HOST", Repeatable: true),
        new("--fast", "probe.fast", "a flag", IsFlag: true),
        new("--mode", null, "one of two", "MODE", Choices: ["a", "b"]),
    ];

    [Fact]
    public async Task Declared_options_are_parsed_into_their_HOCON_keys()
    {
        var probe = new Probe(Options, []);
        Assert.Equal(7, await Actors.Host.Cli.CommandLine.RunAsync([probe], ["probe", "--size", "3", "--peer", "a", "--peer=b", "--fast", "--mode", "b"]));
        Assert.Equal("probe.size = \"3\"\nprobe.peers = [\"a\", \"b\"]\nprobe.fast = \"on\"\n", probe.Seen!.ToHocon());
        Assert.Equal("b", probe.Seen.Value("--mode"));
    }

    [Theory]
    [InlineData("--sise", "3")]          // unknown option
    [InlineData("--size", "3", "--size", "4")] // given twice
    [InlineData("--mode", "c")]          // not one of the choices
    [InlineData("extra")]                // unexpected argument
    [InlineData("--size")]               // missing value
    public async Task A_usage_error_is_exit_code_2_and_runs_nothing(params string[] args)
    {
        var probe = new Probe(Options, []);
        Assert.Equal(2, await Actors.Host.Cli.CommandLine.RunAsync([probe], ["probe", .. args]));
        Assert.Null(probe.Seen);
    }

    [Fact]
    public async Task A_declared_subcommand_gets_its_own_options_and_arguments()
    {
        Actors.Host.Cli.ParsedArguments? seen = null;
        var sub = new Actors.Host.Cli.CliCommand("go", "a sub-command", [new("--to", null, "where", "PLACE", Required: true)],
            a => { seen = a; return Task.FromResult(0); }) { Arguments = [new("WHAT", "what to do")] };
        var probe = new Probe([], [sub]);
        Assert.Equal(0, await Actors.Host.Cli.CommandLine.RunAsync([probe], ["probe", "go", "fetch", "--to", "home"]));
        Assert.Equal("fetch", seen!.Argument("WHAT"));
        Assert.Equal("home", seen.Value("--to"));
        seen = null;
        Assert.Equal(2, await Actors.Host.Cli.CommandLine.RunAsync([probe], ["probe", "go", "fetch"])); // --to is required
        Assert.Null(seen);
    }

    [Fact]
    public void Help_shows_every_declared_option_with_its_key()
    {
        var help = Actors.Host.Cli.Help.ForCommand("actors probe", new("probe", "a command", Options, _ => Task.FromResult(0)));
        foreach (var option in Options)
        {
            var line = Assert.Single(help.Split('\n'), l => l.TrimStart().StartsWith(option.Name + " ") || l.TrimStart() == option.Name);
            if (option.HoconKey is not null) Assert.Contains($"[{option.HoconKey}]", line);
        }
    }
}
