using Actors.Lab.Nat;
using Xunit;

namespace Actors.Calls.Tests.Nat;

/// <summary>
/// A test that needs network namespaces. Where they are not permitted (not root, no iproute2 or
/// iptables, not Linux) it is reported as skipped with the reason — never a silent pass; under CI
/// (<c>CI=true</c>) it runs anyway and fails with the reason.
/// </summary>
public sealed class NatFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() => NatNetwork.WhyUnavailable(needSocat: true));

    public NatFactAttribute()
    {
        Skip = Tools.SkipUnlessCi(Unavailable.Value is { } reason ? $"NAT test: {reason}" : null);
    }
}
