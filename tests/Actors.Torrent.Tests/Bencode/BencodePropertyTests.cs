using System.Diagnostics;
using System.Text;
using Actors.Torrent.Bencode;
using Xunit;

namespace Actors.Torrent.Tests.Bencode;

/// <summary>
/// Property tests with seeded randomness (reproducible) and bounded iteration counts.
/// </summary>
public sealed class BencodePropertyTests
{
    private const int Iterations = 2000;

    [Fact]
    public void Random_valid_values_round_trip_through_encode_and_decode()
    {
        var random = new Random(1234);
        for (var i = 0; i < Iterations; i++)
        {
            var value = RandomValue(random, depth: 0);
            var encoded = BencodeEncoder.Encode(value);
            var decoded = BencodeDecoder.Decode(encoded);
            Assert.Equal(value, decoded);
            Assert.Equal(encoded, BencodeEncoder.Encode(decoded));
        }
    }

    [Fact]
    public void Random_values_encoded_with_shuffled_keys_decode_leniently_to_the_same_value_with_raw_source_ranges()
    {
        var random = new Random(4321);
        var lenient = new BencodeLimits { AllowUnsortedKeys = true };
        for (var i = 0; i < Iterations; i++)
        {
            var value = RandomValue(random, depth: 0);
            var shuffled = new List<byte>();
            EncodeShuffled(value, random, shuffled);
            var input = shuffled.ToArray();

            var decoded = BencodeDecoder.Decode(input, lenient);

            Assert.Equal(value, decoded);
            if (decoded is BDictionary dictionary)
            {
                // Keys that are valid UTF-8 can be looked up by text: their raw bytes decode to their value.
                foreach (var key in dictionary.Keys.Where(k => Encoding.UTF8.GetBytes(k.Text).AsSpan().SequenceEqual(k.Bytes.Span)))
                {
                    Assert.True(dictionary.TryGetSourceRange(key.Text, out var range));
                    Assert.Equal(dictionary[key.Text], BencodeDecoder.Decode(input.AsSpan(range), lenient));
                }
            }
        }
    }

    /// <summary>Bencode with every dictionary's keys in random order (still unique).</summary>
    private static void EncodeShuffled(BValue value, Random random, List<byte> output)
    {
        switch (value)
        {
            case BDictionary dictionary:
                output.Add((byte)'d');
                foreach (var (key, item) in dictionary.Entries.OrderBy(_ => random.Next()))
                {
                    output.AddRange(BencodeEncoder.Encode(key));
                    EncodeShuffled(item, random, output);
                }
                output.Add((byte)'e');
                break;
            case BList list:
                output.Add((byte)'l');
                foreach (var item in list.Items)
                {
                    EncodeShuffled(item, random, output);
                }
                output.Add((byte)'e');
                break;
            default:
                output.AddRange(BencodeEncoder.Encode(value));
                break;
        }
    }

    [Fact]
    public void Every_strict_prefix_of_a_valid_encoding_is_rejected()
    {
        var random = new Random(99);
        for (var i = 0; i < 200; i++)
        {
            var encoded = BencodeEncoder.Encode(RandomValue(random, depth: 0));
            for (var cut = 0; cut < encoded.Length; cut++)
            {
                Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(encoded.AsSpan(0, cut)));
            }
        }
    }

    [Fact]
    public void Decode_prefix_consumes_exactly_one_value_whatever_follows()
    {
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var encoded = BencodeEncoder.Encode(RandomValue(random, depth: 0));
            var suffix = new byte[random.Next(0, 16)];
            random.NextBytes(suffix);
            var input = encoded.Concat(suffix).ToArray();
            BencodeDecoder.DecodePrefix(input, out var consumed);
            Assert.Equal(encoded.Length, consumed);
        }
    }

    [Fact]
    public void Random_bytes_only_ever_fail_with_bencode_exception()
    {
        var random = new Random(42);
        var alphabet = "ilde0123456789:-"u8.ToArray();
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Iterations; i++)
        {
            var input = new byte[random.Next(0, 64)];
            for (var j = 0; j < input.Length; j++)
            {
                // Mostly bencode syntax so the decoder gets past the first byte.
                input[j] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }
            AssertDecodesOrFailsCleanly(input);
        }
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Mutated_valid_encodings_only_ever_fail_with_bencode_exception()
    {
        var random = new Random(2024);
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Iterations; i++)
        {
            var encoded = BencodeEncoder.Encode(RandomValue(random, depth: 0)).ToList();
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations; m++)
            {
                Mutate(random, encoded);
            }
            AssertDecodesOrFailsCleanly(encoded.ToArray());
        }
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
    }

    public static TheoryData<string> HostileInputs() => new()
    {
        "99999999999:",
        "99999999999:abc",
        "2147483647:abc",
        "4294967296:abc",
        "99999999999999999999999999999999999:x",
        "l99999999999:e",
        "d3:key2147483647:e",
        "i99999999999999999999e",
        "i-99999999999999999999e",
        "i" + new string('9', 10_000) + "e",
        new string('l', 100_000),
        new string('l', 100_000) + new string('e', 100_000),
        new string('d', 100_000),
        string.Concat(Enumerable.Repeat("d1:a", 100_000)),
        string.Concat(Enumerable.Repeat("li0e", 50_000)),
    };

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void Hostile_input_fails_quickly_without_allocating_for_claimed_lengths(string ascii)
    {
        var input = Encoding.ASCII.GetBytes(ascii);
        var stopwatch = Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(input));

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Many_small_elements_are_stopped_by_the_element_limit()
    {
        var input = Encoding.ASCII.GetBytes("l" + string.Concat(Enumerable.Repeat("i0e", 10_000)) + "e");
        var limits = new BencodeLimits { MaxElements = 1000 };
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(input, limits));

        Assert.Contains("more than 1000 elements", error.Reason);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 * 1024);
    }

    private static void AssertDecodesOrFailsCleanly(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            var value = BencodeDecoder.Decode(input);
            // Whatever the strict decoder accepts is canonical, so it re-encodes to the same bytes.
            Assert.Equal(input, BencodeEncoder.Encode(value));
        }
        catch (BencodeException)
        {
        }
        catch (Exception other)
        {
            Assert.Fail($"Input {Convert.ToHexString(input)} threw {other.GetType().Name}: {other.Message}");
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Bounded by the input actually present, never by a length it claims.
        Assert.True(allocated < 64 * 1024 + 512L * input.Length, $"allocated {allocated} bytes for {input.Length} input bytes");
    }

    private static void Mutate(Random random, List<byte> bytes)
    {
        var position = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
        switch (random.Next(7))
        {
            case 0 when bytes.Count > 0:
                bytes[position] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes.RemoveRange(random.Next(bytes.Count), 1);
                break;
            case 2:
                bytes.RemoveRange(position, bytes.Count - position);
                break;
            case 3:
                bytes.Insert(position, (byte)random.Next(256));
                break;
            case 4:
                bytes.InsertRange(position, "99999999999:"u8.ToArray());
                break;
            case 5:
                bytes.InsertRange(position, "i99999999999999999999e"u8.ToArray());
                break;
            default:
                bytes.InsertRange(position, Enumerable.Repeat((byte)'l', random.Next(1, 200)));
                break;
        }
    }

    private static BValue RandomValue(Random random, int depth)
    {
        var kind = depth >= 4 ? random.Next(2) : random.Next(4);
        switch (kind)
        {
            case 0:
                return new BInteger(random.Next(5) switch
                {
                    0 => 0,
                    1 => long.MinValue,
                    2 => long.MaxValue,
                    _ => random.NextInt64(long.MinValue, long.MaxValue),
                });
            case 1:
                return new BString(RandomBytes(random, random.Next(0, 24)));
            case 2:
                var items = new BValue[random.Next(0, 5)];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = RandomValue(random, depth + 1);
                }
                return new BList(items);
            default:
                var builder = new Dictionary<BString, BValue>();
                var count = random.Next(0, 5);
                for (var i = 0; i < count; i++)
                {
                    builder[new BString(RandomBytes(random, random.Next(0, 6)))] = RandomValue(random, depth + 1);
                }
                return new BDictionary(builder);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
