using Actors.Host.Cli;
using Actors.Torrent.Metainfo;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors torrent create PATH --tracker URL -o FILE</c> and <c>actors torrent show FILE</c>:
/// a tool, not a cluster member. Bad input is one line on stderr and exit code 2.
/// </summary>
public sealed class TorrentCommand : IRoleCommand
{
    public string Name => "torrent";
    public string Summary => "Create (torrent create PATH --tracker URL -o FILE), show (torrent show FILE) or print the magnet link of (torrent magnet FILE) a .torrent file.";

    private static readonly CliOption[] CreateOptions =
    [
        new("--tracker", null, "announce URL; repeat for backup trackers (one tier each)", "URL", Repeatable: true),
        new("--output", null, "the .torrent file to write", "FILE", Aliases: ["-o"], Required: true),
        new("--piece-length", null, "piece size in bytes (a power of two, at least 16384); default by size", "BYTES"),
        new("--private", null, "set the private flag (BEP 27)", IsFlag: true),
        new("--comment", null, "a comment stored in the torrent", "TEXT"),
    ];

    public IReadOnlyList<CliOption> Options => [];

    public IReadOnlyList<CliCommand> Subcommands =>
    [
        new("create", "Create a .torrent file.", CreateOptions, args => Task.FromResult(Create(args)))
        {
            Arguments = [new("PATH", "the file or folder to describe")],
        },
        new("show", "Show a .torrent file: name, files, pieces, trackers, info-hash.", [], args => Task.FromResult(Show(args.Argument("FILE"))))
        {
            Arguments = [new("FILE", "the .torrent file")],
        },
        new("magnet", "Print a .torrent file's magnet link (BEP 9).", [], args => Task.FromResult(Magnet(args.Argument("FILE"))))
        {
            Arguments = [new("FILE", "the .torrent file")],
        },
    ];

    public Task<int> RunAsync(ParsedArguments args) => CliCommand.NeedsSubcommand("create, show or magnet")(args);

    private static int Create(ParsedArguments parsed)
    {
        var path = parsed.Argument("PATH");
        var output = parsed.Value("--output") ?? throw new UsageException("create needs -o FILE");
        if (!File.Exists(path) && !Directory.Exists(path)) throw new UsageException($"\"{path}\" does not exist");

        var trackers = parsed.Values("--tracker");
        foreach (var url in trackers)
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "udp"))
                throw new UsageException($"--tracker: \"{url}\" is not an http(s) or udp URL");
        int? pieceLength = null;
        if (parsed.Value("--piece-length") is { } text)
        {
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                || n < TorrentCreator.MinPieceLength || (n & (n - 1)) != 0 || n > TorrentMetainfo.MaxPieceLength)
                throw new UsageException($"--piece-length: expected a power of two between {TorrentCreator.MinPieceLength} and {TorrentMetainfo.MaxPieceLength}, got \"{text}\"");
            pieceLength = n;
        }

        byte[] torrent;
        try
        {
            torrent = TorrentCreator.Create(path, new TorrentCreateOptions
            {
                Trackers = trackers,
                PieceLength = pieceLength,
                IsPrivate = parsed.Has("--private"),
                Comment = parsed.Value("--comment"),
            });
            File.WriteAllBytes(output, torrent);
        }
        catch (Exception ex) when (ex is MetainfoException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"actors torrent: {ex.Message}");
            return 2;
        }
        var created = TorrentMetainfo.Parse(torrent);
        StandardOutput.Writer.WriteLine($"{output}: {created.Name}, {created.PieceCount} pieces, info-hash {created.InfoHashHex}");
        return 0;
    }

    private static int Show(string file)
    {
        try
        {
            StandardOutput.Writer.Write(TorrentDescription.Describe(TorrentMetainfo.Load(file)));
            return 0;
        }
        catch (Exception ex) when (ex is MetainfoException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"actors torrent: {file}: {ex.Message}");
            return 2;
        }
    }

    /// <summary>The torrent's magnet link (BEP 9): hex info-hash, dn, one tr per tracker.</summary>
    private static int Magnet(string file)
    {
        try
        {
            StandardOutput.Writer.WriteLine(MagnetLink.From(TorrentMetainfo.Load(file)).ToString());
            return 0;
        }
        catch (Exception ex) when (ex is MetainfoException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"actors torrent: {file}: {ex.Message}");
            return 2;
        }
    }

    private static List<string> AllValues(IReadOnlyList<string> args, string name)
    {
        var values = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == name && i + 1 < args.Count) values.Add(args[++i]);
            else if (args[i].StartsWith(name + "=", StringComparison.Ordinal)) values.Add(args[i][(name.Length + 1)..]);
        }
        return values;
    }
}
