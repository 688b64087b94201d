using Xunit;

namespace Actors.Calls.Tests.Nat;

public sealed partial class NatTests
{
    /// <summary>
    /// Every ordered pair of public host, cone NAT (MASQUERADE) and symmetric NAT (MASQUERADE
    /// --random-fully): six long-running callers (two per kind, alternating between the two
    /// rendezvous nodes), nine calls one after the other over stdin — the same code the Lab's
    /// nat-matrix scenario runs (<see cref="NatMatrix"/>). Prints the matrix (path and setup time
    /// as the caller measured them) and asserts every cell's checks: the expected path, both ends
    /// agreeing; a punched call never touched a relay; UDP media exactly where it can punch.
    /// </summary>
    [NatFact]
    public void Nat_matrix_every_pair_of_public_cone_and_symmetric_takes_the_expected_path()
    {
        lab.EnsureRelaysAlive();
        var result = NatMatrix.Run(lab.World!, Enum.GetValues<NatMatrix.Kind>(), TimeSpan.FromSeconds(1.5), output.WriteLine);
        var table = NatMatrix.Render(result.Cells);
        output.WriteLine(table);
        Console.WriteLine(table);
        Assert.Equal(9, result.Cells.Count);
        // 1.5 s is 75 frames; the point here is the path, and a loaded machine delivers far fewer.
        var checks = NatMatrix.Check(result.Cells, minFrames: 10);
        Assert.Equal(18, checks.Count);
        var failed = checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}").ToList();
        Assert.True(failed.Count == 0, $"{string.Join("\n", failed)}\n{table}\n{result.Trace}");
    }
}
