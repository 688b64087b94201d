using Xunit;

namespace Actors.Calls.Tests.Nat;

/// <summary>
/// A test that needs network namespaces. Where they are not permitted (not root, no iproute2 or
/// iptables, not Linux) it is reported as skipped with the reason — never a silent pass.
/// </summary>
public sealed class NatFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(NatNetwork.WhyUnavailable);

    public NatFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"NAT TEST SKIPPED: {reason}";
            Console.Error.WriteLine($"*** {Skip} ***");
        }
    }
}
