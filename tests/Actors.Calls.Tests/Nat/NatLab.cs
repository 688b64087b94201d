using Actors.Lab.Nat;

namespace Actors.Calls.Tests.Nat;

/// <summary>
/// The shared NAT world for <see cref="NatTests"/>: the Lab's <see cref="NatWorld"/> (the network,
/// a two-node rendezvous cluster and two relays on the public network, the users file), built once
/// per test class; Dispose kills every process it started and deletes every namespace.
/// </summary>
public sealed class NatLab : IDisposable
{
    public const string Rdv1 = NatWorld.Rdv1, Rdv2 = NatWorld.Rdv2, Relay1 = NatWorld.Relay1, Relay2 = NatWorld.Relay2, Public = NatWorld.Public, Public2 = NatWorld.Public2;
    public const string Wan1 = NatWorld.Wan1, Wan2 = NatWorld.Wan2, Wan3 = NatWorld.Wan3, Wan4 = NatWorld.Wan4;
    public static readonly TimeSpan Wait = NatWorld.Wait;

    public NatWorld? World { get; }
    public string? Unavailable { get; } = NatNetwork.WhyUnavailable(needSocat: true);

    public NatLab()
    {
        if (Unavailable is not null)
        {
            // Skipped visibly elsewhere (NatFact); under CI every NAT test fails with the reason.
            if (Tools.InCi) throw new InvalidOperationException($"CI=true but the NAT tests cannot run: {Unavailable}");
            return;
        }
        World = new NatWorld("callsnat", ["dotnet", NsProcess.ActorsDll], NatWorld.TwoOfEach);
    }

    public string VerboseCallerConfig => World!.VerboseCallerConfig;
    public Dictionary<string, NsProcess> Relays => World!.Relays;
    public List<NsProcess> Rendezvous => World!.Rendezvous;

    public string Ns(string name) => World!.Ns(name);

    public void EnsureRelaysAlive() => World!.EnsureRelaysAlive();

    public NsProcess Start(string ns, params string[] args) => World!.Start(ns, args);

    public NsProcess StartCommand(string ns, params string[] command) => World!.StartCommand(ns, command);

    public void Dispose() => World?.Dispose();
}
