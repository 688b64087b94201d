using System.Text;
using Actors.Web.Http;
using Xunit;

namespace Actors.Web.Tests.Http;

internal static class DecoderTestKit
{
    public static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>Feeds the pieces, then drains every request; the last element is the final status.</summary>
    public static (List<HttpRequest> Requests, DecodeStatus Final, HttpError Error) DecodeAll(HttpLimits limits, params byte[][] pieces)
    {
        var decoder = new HttpRequestDecoder(limits);
        var requests = new List<HttpRequest>();
        DecodeStatus status = DecodeStatus.NeedMore;
        HttpError error = default;
        foreach (var piece in pieces)
        {
            decoder.Feed(piece);
            while ((status = decoder.Next(out var request, out error)) == DecodeStatus.Request) requests.Add(request!);
            if (status == DecodeStatus.Error) break;
        }
        return (requests, status, error);
    }

    public static HttpRequest DecodeOne(string raw)
    {
        var (requests, final, error) = DecodeAll(new HttpLimits(), Bytes(raw));
        Assert.True(requests.Count == 1, $"expected one request, got {requests.Count} ({final} {error})");
        return requests[0];
    }

    public static string Describe(HttpRequest r) =>
        $"{r.Method} {r.Target} {r.Version} [{string.Join("|", r.Headers.Select(h => h.Key + "=" + h.Value))}] {Convert.ToHexString(r.Body)}";

    public static string Describe(HttpResponse r) =>
        $"{r.Status} {r.Reason} {r.Version} {r.KeepAlive} [{string.Join("|", r.Headers.Select(h => h.Key + "=" + h.Value))}] {Convert.ToHexString(r.Body)}";
}
