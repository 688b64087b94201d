using Actors.Web.Http;

namespace Actors.Web.Server;

/// <summary>
/// The Date header value, formatted at most once per second for the whole node: every response
/// carries it, and formatting it per request showed up in profiles (Kestrel caches it too).
/// </summary>
internal static class CurrentDate
{
    private sealed record Stamp(long Second, string Text);
    private static Stamp _stamp = new(0, "");

    public static string Value
    {
        get
        {
            var now = DateTimeOffset.UtcNow;
            var second = now.ToUnixTimeSeconds();
            var stamp = _stamp;
            if (stamp.Second == second) return stamp.Text;
            stamp = new Stamp(second, HttpDate.Format(now));
            _stamp = stamp; // a racing thread may format the same second twice: harmless
            return stamp.Text;
        }
    }
}
