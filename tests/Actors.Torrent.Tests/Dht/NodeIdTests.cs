using Actors.Torrent.Dht;
using CsCheck;
using Xunit;

namespace Actors.Torrent.Tests.Dht;

public sealed class NodeIdTests
{
    private static readonly Gen<NodeId> GenId = Gen.Byte.Array[20].Select(b => NodeId.FromBytes(b));

    [Fact]
    public void Bytes_and_hex_round_trip() =>
        GenId.Sample(id =>
        {
            Assert.Equal(id, NodeId.FromBytes(id.ToBytes()));
            Assert.Equal(id, NodeId.Parse(id.ToString()));
            Assert.Equal(Convert.ToHexStringLower(id.ToBytes()), id.ToString());
        });

    [Fact]
    public void Distance_order_is_the_XOR_metric_compared_bytewise() =>
        Gen.Select(GenId, GenId, GenId).Sample((a, b, t) =>
        {
            var da = a.Xor(t).ToBytes();
            var db = b.Xor(t).ToBytes();
            Assert.Equal(Math.Sign(da.AsSpan().SequenceCompareTo(db)), Math.Sign(NodeId.CompareDistance(a, b, t)));
        });

    [Fact]
    public void Common_prefix_length_counts_equal_leading_bits() =>
        Gen.Select(GenId, GenId).Sample((a, b) =>
        {
            var n = 0;
            while (n < 160 && a.Bit(n) == b.Bit(n)) n++;
            Assert.Equal(n, a.CommonPrefixLength(b));
        });

    [Fact]
    public void A_refresh_target_lands_in_the_bucket_it_was_made_for() =>
        Gen.Select(GenId, Gen.Int[0, 159]).Sample((self, depth) =>
            Assert.Equal(depth, self.CommonPrefixLength(self.RandomInBucket(depth))));
}
