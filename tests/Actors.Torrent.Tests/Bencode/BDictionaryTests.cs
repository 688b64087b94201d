using Actors.Torrent.Bencode;
using Xunit;

namespace Actors.Torrent.Tests.Bencode;

public sealed class BDictionaryTests
{
    private static readonly BDictionary Sample = new BDictionaryBuilder()
        .Add("interval", 1800)
        .Add("peers", new byte[] { 10, 0, 0, 1, 0x1A, 0xE1 })
        .Add("tracker id", "abc")
        .Add("files", new BList([BString.From("x")]))
        .Add("nested", new BDictionaryBuilder().Add("k", "v"))
        .Build();

    [Fact]
    public void Lookup_by_string_key_finds_values()
    {
        Assert.True(Sample.TryGet("interval", out var interval));
        Assert.Equal(new BInteger(1800), interval);
        Assert.Equal(1800, Sample.GetInteger("interval"));
        Assert.Equal("abc", Sample.GetText("tracker id"));
        Assert.Equal("v", Sample.GetDictionary("nested")!.GetText("k"));
        Assert.Single(Sample.GetList("files")!.Items);
        Assert.True(Sample.ContainsKey("peers"));
        Assert.NotNull(Sample["peers"]);
    }

    [Fact]
    public void Lookup_of_a_missing_key_or_another_type_gives_nothing()
    {
        Assert.False(Sample.TryGet("missing", out _));
        Assert.Null(Sample["missing"]);
        Assert.Null(Sample.Get<BInteger>("tracker id"));
        Assert.Null(Sample.GetInteger("peers"));
        Assert.False(Sample.TryGet<BList>("interval", out _));
    }

    [Fact]
    public void Lookup_by_raw_byte_key_works_for_non_text_keys()
    {
        var dictionary = new BDictionary([new(new BString(new byte[] { 0xFF, 0x00 }), new BInteger(1))]);
        Assert.True(dictionary.TryGet([0xFF, 0x00], out var value));
        Assert.Equal(new BInteger(1), value);
    }

    [Fact]
    public void Entries_are_sorted_bytewise()
    {
        Assert.Equal(["files", "interval", "nested", "peers", "tracker id"], Sample.Keys.Select(k => k.Text));
    }

    [Fact]
    public void Duplicate_keys_are_rejected_by_the_builder_and_the_constructor()
    {
        Assert.Throws<ArgumentException>(() => new BDictionaryBuilder().Add("a", 1).Add("a", 2));
        Assert.Throws<ArgumentException>(() => new BDictionary([
            new(BString.From("a"), new BInteger(1)),
            new(BString.From("a"), new BInteger(2)),
        ]));
    }

    [Fact]
    public void Optional_entries_are_added_only_when_present()
    {
        var dictionary = new BDictionaryBuilder()
            .AddIfNotNull("warning message", (string?)null)
            .AddIfNotNull("min interval", (long?)60)
            .Build();
        Assert.Equal(1, dictionary.Count);
        Assert.Equal(60, dictionary.GetInteger("min interval"));
    }

    [Fact]
    public void Values_compare_structurally_and_strings_bytewise()
    {
        Assert.Equal(BString.From("abc"), new BString(new byte[] { 97, 98, 99 }));
        Assert.Equal(BString.From("abc").GetHashCode(), new BString(new byte[] { 97, 98, 99 }).GetHashCode());
        Assert.NotEqual(BString.From("abc"), BString.From("abd"));
        Assert.Equal(new BList([new BInteger(1)]), new BList([new BInteger(1)]));
        Assert.NotEqual<BValue>(new BList([new BInteger(1)]), new BList([BString.From("1")]));
        Assert.Equal(Sample, BencodeDecoder.Decode(BencodeEncoder.Encode(Sample)));
    }

    [Fact]
    public void Text_helper_decodes_utf8()
    {
        Assert.Equal("héllo", BString.From("héllo").Text);
    }
}
