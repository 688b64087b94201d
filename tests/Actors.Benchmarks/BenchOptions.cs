using System.Globalization;

namespace Actors.Benchmarks;

/// <summary>
/// Command line: `&lt;scenario&gt; [--duration S] [--rounds N] [--actors PATH]`, and the internal
/// `kestrel --root DIR --port N`. Hand-parsed: the project takes no packages.
/// </summary>
public sealed record BenchOptions(string Command, TimeSpan Duration, int Rounds, string? ActorsDll, string? Root, int Port)
{
    public const string Usage = """
        usage: Actors.Benchmarks <web|tracker|all> [--duration S] [--rounds N] [--actors PATH]
               Actors.Benchmarks kestrel --root DIR --port N     (the Kestrel baseline server)

          --duration S   seconds per wrk run (default 10)
          --rounds N     rounds; servers alternate within each round, the median is reported (default 3)
          --actors PATH  our server's actors.dll (default: src/Actors.Host/bin/Release/net10.0/actors.dll,
                         built with `dotnet build -c Release src/Actors.Host` if missing)
        """;

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("missing scenario");
        }
        var command = args[0];
        if (command is not ("web" or "tracker" or "all" or "kestrel"))
        {
            throw new ArgumentException($"unknown scenario '{command}'");
        }

        var duration = TimeSpan.FromSeconds(10);
        var rounds = 3;
        string? actors = null;
        string? root = null;
        var port = 0;
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--duration":
                    duration = TimeSpan.FromSeconds(PositiveInt(name, Value()));
                    break;
                case "--rounds":
                    rounds = PositiveInt(name, Value());
                    break;
                case "--actors":
                    actors = Value();
                    break;
                case "--root":
                    root = Value();
                    break;
                case "--port":
                    port = PositiveInt(name, Value());
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}'");
            }
        }
        if (command == "kestrel" && (root is null || port == 0))
        {
            throw new ArgumentException("kestrel needs --root DIR and --port N");
        }
        return new BenchOptions(command, duration, rounds, actors, root, port);
    }

    private static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive integer, got '{text}'");
}
