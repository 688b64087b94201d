using Actors.Calls.Caller;
using Actors.Net.Configuration;
using Akka.Configuration;
using Xunit;

namespace Actors.Calls.Tests.Caller;

/// <summary><c>actors.caller.rendezvous</c>: one address, a list (a repeated --rendezvous), or comma-separated.</summary>
public sealed class CallerSettingsTests
{
    private static CallerSettings Read(string rendezvous) => CallerSettings.Read(ConfigurationFactory.ParseString($$"""
        actors.caller {
          id = alice, secret = s, rendezvous = {{rendezvous}}, listen = off, listen-host = "0.0.0.0", call = "", auto-answer = off
          duration = 10s, frame-interval = 20ms, wav = "", connect-timeout = 3s, reconnect-grace = 15s
          rendezvous-backoff-min = 200ms, rendezvous-backoff-max = 5s, rendezvous-retry-for = 2m, hole-punch = on
        }
        """));

    [Theory]
    [InlineData("\"a:7400\"", "a:7400")]
    [InlineData("[\"a:7400\", \"b:7401\"]", "a:7400 b:7401")]
    [InlineData("\"a:7400, b:7401\"", "a:7400 b:7401")]
    [InlineData("[\"a:7400,b:7401\", \"c:7402\"]", "a:7400 b:7401 c:7402")]
    public void Rendezvous_addresses_are_read_in_order(string value, string expected)
    {
        var settings = Read(value);
        Assert.Equal(expected, string.Join(' ', settings.Rendezvous.Select(r => $"{r.Host}:{r.Port}")));
        Assert.Equal(settings.Rendezvous[0], (settings.RendezvousHost, settings.RendezvousPort));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("[]")]
    [InlineData("\"a\"")]
    [InlineData("[\"a:7400\", \"b:notaport\"]")]
    public void Bad_rendezvous_values_name_the_setting(string value)
    {
        var ex = Assert.Throws<SettingsException>(() => Read(value));
        Assert.Equal("actors.caller.rendezvous", ex.Key);
    }
}
