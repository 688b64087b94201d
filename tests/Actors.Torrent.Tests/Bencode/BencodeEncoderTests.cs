using System.Buffers;
using System.Text;
using Actors.Torrent.Bencode;
using Xunit;

namespace Actors.Torrent.Tests.Bencode;

public sealed class BencodeEncoderTests
{
    private static string EncodeAscii(BValue value) => Encoding.Latin1.GetString(BencodeEncoder.Encode(value));

    [Theory]
    [InlineData(0L, "i0e")]
    [InlineData(7L, "i7e")]
    [InlineData(-7L, "i-7e")]
    [InlineData(long.MaxValue, "i9223372036854775807e")]
    [InlineData(long.MinValue, "i-9223372036854775808e")]
    public void Integers_encode_in_decimal_without_padding(long value, string expected)
    {
        Assert.Equal(expected, EncodeAscii(new BInteger(value)));
    }

    [Fact]
    public void Strings_encode_with_their_byte_length_not_their_character_count()
    {
        Assert.Equal("0:", EncodeAscii(BString.Empty));
        Assert.Equal("4:spam", EncodeAscii(BString.From("spam")));
        Assert.Equal(Encoding.UTF8.GetBytes("2:é"), BencodeEncoder.Encode(BString.From("é")));
    }

    [Fact]
    public void Lists_keep_their_order()
    {
        var list = new BList([BString.From("b"), new BInteger(1), BString.From("a")]);
        Assert.Equal("l1:bi1e1:ae", EncodeAscii(list));
    }

    [Fact]
    public void Dictionaries_are_written_in_bytewise_key_order_whatever_the_insertion_order()
    {
        var dictionary = new BDictionaryBuilder()
            .Add("zeta", 1)
            .Add("a", 2)
            .Add("Z", 3)
            .Add("ab", 4)
            .Add("", 5)
            .Build();
        Assert.Equal("d0:i5e1:Zi3e1:ai2e2:abi4e4:zetai1ee", EncodeAscii(dictionary));
    }

    [Fact]
    public void Dictionary_key_order_is_unsigned_bytewise_not_culture_order()
    {
        var dictionary = new BDictionary([
            new(new BString(new byte[] { 0xFF }), new BInteger(1)),
            new(new BString(new byte[] { 0x7F }), new BInteger(2)),
            new(new BString(new byte[] { 0x00 }), new BInteger(3)),
        ]);
        var encoded = BencodeEncoder.Encode(dictionary);
        Assert.Equal(new byte[] { 0x00, 0x7F, 0xFF }, new[] { encoded[3], encoded[9], encoded[15] });
    }

    [Fact]
    public void Write_to_a_buffer_writer_produces_the_same_bytes_as_encode()
    {
        var value = new BDictionaryBuilder().Add("interval", 1800).Add("peers", new byte[] { 1, 2, 3, 4, 0x1A, 0xE1 }).Build();
        var writer = new ArrayBufferWriter<byte>(1);
        BencodeEncoder.Write(writer, value);
        Assert.Equal(BencodeEncoder.Encode(value), writer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData("i-17e")]
    [InlineData("5:hello")]
    [InlineData("le")]
    [InlineData("de")]
    [InlineData("d8:completei3e10:incompletei1e8:intervali1800e5:peers6:abcdefe")]
    [InlineData("l4:spaml1:ai0eed1:kli1eeee")]
    public void Valid_canonical_input_round_trips_byte_for_byte(string input)
    {
        var bytes = Encoding.ASCII.GetBytes(input);
        Assert.Equal(bytes, BencodeEncoder.Encode(BencodeDecoder.Decode(bytes)));
    }

    [Fact]
    public void Absurdly_deep_values_built_in_code_fail_cleanly_instead_of_overflowing_the_stack()
    {
        BValue value = BList.Empty;
        for (var i = 0; i < 5000; i++)
        {
            value = new BList([value]);
        }
        Assert.Throws<BencodeException>(() => BencodeEncoder.Encode(value));
    }
}
