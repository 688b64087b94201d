using System.Text;
using Actors.Torrent.Bencode;
using Xunit;

namespace Actors.Torrent.Tests.Bencode;

public sealed class BencodeDecoderTests
{
    private static BValue Decode(string ascii, BencodeLimits? limits = null) =>
        BencodeDecoder.Decode(Encoding.Latin1.GetBytes(ascii), limits);

    [Theory]
    [InlineData("i0e", 0L)]
    [InlineData("i42e", 42L)]
    [InlineData("i-42e", -42L)]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    public void Valid_integers_decode_to_their_value(string input, long expected)
    {
        Assert.Equal(new BInteger(expected), Decode(input));
    }

    [Theory]
    [InlineData("0:", "")]
    [InlineData("4:spam", "spam")]
    [InlineData("5:a:b:c", "a:b:c")]
    [InlineData("10:0123456789", "0123456789")]
    public void Valid_strings_decode_to_their_bytes(string input, string expected)
    {
        Assert.Equal(BString.From(expected), Decode(input));
    }

    [Fact]
    public void Strings_are_raw_bytes_not_necessarily_text()
    {
        var value = BencodeDecoder.Decode([(byte)'3', (byte)':', 0x00, 0xFF, 0x80]);
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x80 }, ((BString)value).Bytes.ToArray());
    }

    [Fact]
    public void Lists_and_dictionaries_decode_structurally()
    {
        var value = Decode("d4:listli1e4:spamlee3:numi-3e4:spamd1:a0:ee");
        var expected = new BDictionaryBuilder()
            .Add("list", new BList([new BInteger(1), BString.From("spam"), BList.Empty]))
            .Add("num", -3)
            .Add("spam", new BDictionaryBuilder().Add("a", ""))
            .Build();
        Assert.Equal(expected, value);
    }

    [Fact]
    public void Keys_compare_bytewise_so_uppercase_sorts_before_lowercase_and_high_bytes_last()
    {
        var input = new List<byte>();
        input.AddRange("d1:Ai1e1:ai2e"u8.ToArray());
        input.AddRange([(byte)'1', (byte)':', 0xC3, (byte)'i', (byte)'3', (byte)'e', (byte)'e']);
        var dictionary = (BDictionary)BencodeDecoder.Decode(input.ToArray());
        Assert.Equal(3, dictionary.Count);
        Assert.Equal(1, dictionary.GetInteger("A"));
        Assert.Equal(2, dictionary.GetInteger("a"));
    }

    [Theory]
    // Integers
    [InlineData("i03e", 0, "leading zero")]
    [InlineData("i-03e", 0, "leading zero")]
    [InlineData("i00e", 0, "leading zero")]
    [InlineData("i-0e", 0, "negative zero")]
    [InlineData("i-e", 0, "without digits")]
    [InlineData("ie", 0, "empty integer")]
    [InlineData("i1.5e", 2, "unexpected byte '.'")]
    [InlineData("i+1e", 1, "unexpected byte '+'")]
    [InlineData("i 1e", 1, "unexpected byte ' '")]
    [InlineData("i9223372036854775808e", 0, "64 bits")]
    [InlineData("i-9223372036854775809e", 0, "64 bits")]
    [InlineData("i99999999999999999999e", 0, "64 bits")]
    [InlineData("i12", 3, "end of input")]
    // Strings
    [InlineData("03:abc", 0, "leading zero")]
    [InlineData("00:", 0, "leading zero")]
    [InlineData("4:abc", 0, "exceeds the remaining input")]
    [InlineData("99999999999:abc", 0, "exceeds the remaining input")]
    [InlineData("4", 0, "exceeds the remaining input")]
    [InlineData("0", 1, "end of input")]
    [InlineData("4abcd", 1, "unexpected byte 'a'")]
    [InlineData("-1:a", 0, "unexpected byte '-'")]
    // Lists
    [InlineData("l", 1, "end of input")]
    [InlineData("li1e", 4, "end of input")]
    // Dictionaries
    [InlineData("d1:bi1e1:ai2ee", 7, "not in sorted order")]
    [InlineData("d1:ai1e1:ai2ee", 7, "duplicate dictionary key")]
    [InlineData("di1ei2ee", 1, "must be a byte string")]
    [InlineData("dli1eei2ee", 1, "must be a byte string")]
    [InlineData("d1:a", 4, "end of input")]
    [InlineData("d1:ae", 4, "unexpected byte 'e'")]
    // Top level
    [InlineData("", 0, "end of input")]
    [InlineData("i1ei2e", 3, "after the top-level value")]
    [InlineData("4:spamx", 6, "after the top-level value")]
    [InlineData("e", 0, "unexpected byte 'e'")]
    [InlineData("x", 0, "unexpected byte 'x'")]
    public void Invalid_input_is_rejected_with_reason_and_offset(string input, int offset, string reason)
    {
        var error = Assert.Throws<BencodeException>(() => Decode(input));
        Assert.Contains(reason, error.Reason);
        Assert.Equal(offset, error.Offset);
        Assert.Contains($"byte {offset}", error.Message);
    }

    [Fact]
    public void Nesting_up_to_the_depth_limit_is_accepted()
    {
        var limits = new BencodeLimits { MaxDepth = 5 };
        var value = Decode("lllllee" + "eee", limits);
        Assert.IsType<BList>(value);
    }

    [Fact]
    public void Nesting_beyond_the_depth_limit_is_rejected()
    {
        var limits = new BencodeLimits { MaxDepth = 5 };
        var error = Assert.Throws<BencodeException>(() => Decode("llllllee" + "eeee", limits));
        Assert.Contains("nesting deeper than 5", error.Reason);
        Assert.Equal(5, error.Offset);
    }

    [Fact]
    public void Default_depth_limit_is_64()
    {
        Decode(new string('l', 64) + new string('e', 64));
        var error = Assert.Throws<BencodeException>(() => Decode(new string('l', 65) + new string('e', 65)));
        Assert.Contains("nesting deeper than 64", error.Reason);
    }

    [Fact]
    public void Dictionaries_count_toward_the_depth_limit()
    {
        var limits = new BencodeLimits { MaxDepth = 2 };
        Decode("d1:ad1:ai1eee", limits);
        Assert.Throws<BencodeException>(() => Decode("d1:ad1:ad1:ai1eeee", limits));
    }

    [Fact]
    public void More_elements_than_the_limit_are_rejected()
    {
        var limits = new BencodeLimits { MaxElements = 4 };
        Decode("li1ei2ei3ee", limits); // the list and three integers
        var error = Assert.Throws<BencodeException>(() => Decode("li1ei2ei3ei4ee", limits));
        Assert.Contains("more than 4 elements", error.Reason);
    }

    [Fact]
    public void Dictionary_keys_count_as_elements()
    {
        var limits = new BencodeLimits { MaxElements = 2 };
        Assert.Throws<BencodeException>(() => Decode("d1:ai1ee", limits));
    }

    [Fact]
    public void Input_larger_than_the_limit_is_rejected_before_parsing()
    {
        var limits = new BencodeLimits { MaxInputBytes = 4 };
        Decode("i12e", limits);
        var error = Assert.Throws<BencodeException>(() => Decode("i123e", limits));
        Assert.Contains("exceeds the limit of 4", error.Reason);
    }

    [Fact]
    public void Source_range_of_a_dictionary_value_covers_its_exact_encoding()
    {
        var input = Encoding.ASCII.GetBytes("d8:announce3:url4:infod4:name1:x6:pieces0:e1:zi1ee");
        var root = (BDictionary)BencodeDecoder.Decode(input);

        Assert.True(root.TryGetSourceRange("info", out var info));
        Assert.Equal("d4:name1:x6:pieces0:e", Encoding.ASCII.GetString(input[info]));
        Assert.True(root.TryGetSourceRange("z", out var z));
        Assert.Equal("i1e", Encoding.ASCII.GetString(input[z]));
        Assert.False(root.TryGetSourceRange("missing", out _));
    }

    [Fact]
    public void Source_ranges_of_nested_dictionaries_are_offsets_into_the_whole_input()
    {
        var input = Encoding.ASCII.GetBytes("d1:ad1:b3:xyzee");
        var inner = ((BDictionary)BencodeDecoder.Decode(input)).GetDictionary("a")!;
        Assert.True(inner.TryGetSourceRange("b", out var range));
        Assert.Equal("3:xyz", Encoding.ASCII.GetString(input[range]));
    }

    [Fact]
    public void Built_dictionaries_have_no_source_ranges()
    {
        var built = new BDictionaryBuilder().Add("a", 1).Build();
        Assert.False(built.TryGetSourceRange("a", out _));
    }

    [Fact]
    public void Decode_prefix_reports_the_bytes_consumed_and_leaves_the_rest()
    {
        var input = Encoding.ASCII.GetBytes("d8:msg_typei1e5:piecei0eeRAWDATA");
        var value = (BDictionary)BencodeDecoder.DecodePrefix(input, out var consumed);
        Assert.Equal(1, value.GetInteger("msg_type"));
        Assert.Equal("RAWDATA", Encoding.ASCII.GetString(input, consumed, input.Length - consumed));
    }

    private static readonly BencodeLimits Lenient = new() { AllowUnsortedKeys = true };

    [Fact]
    public void Lenient_decoding_accepts_unsorted_keys_and_returns_them_in_key_order_with_their_source_ranges()
    {
        var input = Encoding.ASCII.GetBytes("d1:ci3e1:a3:xyz1:bd1:zi1e1:yi2eee");
        var root = (BDictionary)BencodeDecoder.Decode(input, Lenient);

        Assert.Equal(["a", "b", "c"], root.Keys.Select(k => k.Text));
        Assert.Equal("xyz", root.GetText("a"));
        Assert.Equal(3, root.GetInteger("c"));
        Assert.Equal(["y", "z"], root.GetDictionary("b")!.Keys.Select(k => k.Text));
        Assert.True(root.TryGetSourceRange("a", out var a));
        Assert.Equal("3:xyz", Encoding.ASCII.GetString(input[a]));
        Assert.True(root.TryGetSourceRange("b", out var b));
        Assert.Equal("d1:zi1e1:yi2ee", Encoding.ASCII.GetString(input[b]));
        Assert.True(root.TryGetSourceRange("c", out var c));
        Assert.Equal("i3e", Encoding.ASCII.GetString(input[c]));
        // Re-encoding gives the canonical form, not the input: raw bytes come from source ranges.
        Assert.Equal("d1:a3:xyz1:bd1:yi2e1:zi1ee1:ci3ee", Encoding.ASCII.GetString(BencodeEncoder.Encode(root)));
    }

    [Theory]
    [InlineData("d1:ai1e1:ai2ee", 7)] // adjacent
    [InlineData("d1:bi1e1:ai2e1:bi3ee", 13)] // apart, found only after sorting: the later one is reported
    [InlineData("d1:xd1:bi1e1:ai2e1:bi3eee", 17)] // nested
    public void Lenient_decoding_still_refuses_duplicate_keys(string input, int offset)
    {
        var error = Assert.Throws<BencodeException>(() => Decode(input, Lenient));
        Assert.Contains("duplicate dictionary key", error.Reason);
        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void Lenient_decoding_is_strict_about_everything_but_key_order()
    {
        Assert.Throws<BencodeException>(() => Decode("i03e", Lenient));
        Assert.Throws<BencodeException>(() => Decode("d1:bi1e1:ai2ee1:x", Lenient));
        Assert.Throws<BencodeException>(() => Decode("d1:bi1ei1ei2ee", Lenient));
    }

    [Fact]
    public void Strict_decoding_is_the_default()
    {
        Assert.Contains("not in sorted order", Assert.Throws<BencodeException>(() => Decode("d1:bi1e1:ai2ee")).Reason);
        Assert.Contains("not in sorted order", Assert.Throws<BencodeException>(() => Decode("d1:bi1e1:ai2ee", BencodeLimits.Default)).Reason);
    }
}
