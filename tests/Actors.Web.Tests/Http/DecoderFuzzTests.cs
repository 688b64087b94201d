using System.Diagnostics;
using Actors.Web.Http;
using Xunit;
using static Actors.Web.Tests.Http.DecoderTestKit;

namespace Actors.Web.Tests.Http;

/// <summary>Random and mutated input must only ever produce NeedMore, a message or an error — quickly, and without throwing.</summary>
public class DecoderFuzzTests
{
    private static readonly byte[][] ValidRequests =
    [
        Bytes("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nRange: bytes=0-10\r\n\r\n"),
        Bytes("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"),
        Bytes("PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n"),
        Bytes("GET http://h/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
    ];

    private static readonly byte[][] ValidResponses =
    [
        Bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
        Bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"),
        Bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
        Bytes("HTTP/1.0 200 OK\r\n\r\nuntil close"),
    ];

    // Bytes that steer mutations towards the grammar's interesting corners.
    private static readonly byte[] Interesting = Bytes("\r\n :;,-0123456789abcdefABCDEF\t\0\u007f\u00ff/HTTP*");

    private static byte[] Mutate(Random random, byte[] input)
    {
        var bytes = new List<byte>(input);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes.RemoveRange(at, bytes.Count - at); break;
                case 2: bytes.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                case 3: bytes.RemoveAt(at); break;
                default: bytes[at] = Interesting[random.Next(Interesting.Length)]; break;
            }
        }
        return [.. bytes];
    }

    private static IEnumerable<byte[]> Inputs(int seed, byte[][] valid)
    {
        var random = new Random(seed);
        for (var i = 0; i < 1500; i++)
        {
            var junk = new byte[random.Next(0, 300)];
            random.NextBytes(junk);
            yield return junk;
        }
        for (var i = 0; i < 4000; i++) yield return Mutate(random, valid[random.Next(valid.Length)]);
    }

    private static byte[][] RandomPieces(Random random, byte[] input)
    {
        var pieces = new List<byte[]>();
        for (var at = 0; at < input.Length;)
        {
            var size = Math.Min(input.Length - at, random.Next(1, 40));
            pieces.Add(input[at..(at + size)]);
            at += size;
        }
        return [.. pieces];
    }

    [Fact]
    public void Request_decoder_survives_random_and_mutated_input()
    {
        var random = new Random(1234);
        var clock = Stopwatch.StartNew();
        var outcomes = new int[3];
        foreach (var input in Inputs(42, ValidRequests))
        {
            var limits = new HttpLimits(MaxRequestLineBytes: 256, MaxHeaderBytes: 512, MaxHeaderCount: 10, MaxBodyBytes: 64);
            var (requests, final, error) = DecodeAll(limits, RandomPieces(random, input));
            outcomes[(int)final]++;
            if (requests.Count > 0) outcomes[(int)DecodeStatus.Request]++;
            if (final == DecodeStatus.Error) Assert.Contains(error.Status, new[] { 400, 413, 414, 431, 501, 505 });
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.All(outcomes, count => Assert.True(count > 0, string.Join(",", outcomes))); // every outcome was exercised
    }

    [Fact]
    public void Response_decoder_survives_random_and_mutated_input()
    {
        var random = new Random(5678);
        var clock = Stopwatch.StartNew();
        var outcomes = new int[3];
        foreach (var input in Inputs(43, ValidResponses))
        {
            var decoder = new HttpResponseDecoder(maxBodyBytes: 64, maxHeaderBytes: 512);
            if (random.Next(4) == 0) decoder.ExpectNoBody();
            var status = DecodeStatus.NeedMore;
            foreach (var piece in RandomPieces(random, input))
            {
                decoder.Feed(piece);
                while ((status = decoder.Next(out var response, out _)) == DecodeStatus.Response) Assert.NotNull(response);
                if (status == DecodeStatus.Error) break;
            }
            if (status != DecodeStatus.Error)
                while ((status = decoder.Complete(out _, out _)) == DecodeStatus.Response) { }
            outcomes[(int)status]++;
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.True(outcomes[(int)DecodeStatus.Error] > 0);
    }
}
