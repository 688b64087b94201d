using Actors.Fuzz;

// actors-fuzz TARGET                   run under afl-fuzz (tests/Fuzz/run.sh does this)
// actors-fuzz TARGET FILE...           replay inputs: "ok" or the finding, exit 1 on any finding
// actors-fuzz seeds TARGET DIR         write the starting corpus
// actors-fuzz list                     the target names
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: Actors.Fuzz TARGET [FILE...] | seeds TARGET DIR | list");
    Console.Error.WriteLine("targets: " + string.Join(' ', FuzzTargets.Names));
    return 2;
}
if (args[0] == "list")
{
    foreach (var name in FuzzTargets.Names) Console.WriteLine(name);
    return 0;
}
if (args[0] == "seeds" && args.Length == 3 && FuzzTargets.Exists(args[1]))
{
    Directory.CreateDirectory(args[2]);
    var seeds = Seeds.For(args[1]);
    for (var i = 0; i < seeds.Count; i++) File.WriteAllBytes(Path.Combine(args[2], $"seed-{i:00}"), seeds[i]);
    return 0;
}
var target = args[0];
if (!FuzzTargets.Exists(target))
{
    Console.Error.WriteLine($"unknown target '{target}'; targets: {string.Join(' ', FuzzTargets.Names)}");
    return 2;
}
if (args.Length > 1)
{
    var failed = 0;
    foreach (var file in args.Skip(1))
    {
        try
        {
            FuzzTargets.Run(target, File.ReadAllBytes(file));
            Console.WriteLine($"ok       {file}");
        }
        catch (Exception ex)
        {
            failed++;
            Console.WriteLine($"FINDING  {file}: {ex.GetType().Name}: {ex.Message}");
            Console.WriteLine(ex.StackTrace);
        }
    }
    return failed == 0 ? 0 : 1;
}

SharpFuzz.Fuzzer.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    FuzzTargets.Run(target, memory.ToArray());
});
return 0;
