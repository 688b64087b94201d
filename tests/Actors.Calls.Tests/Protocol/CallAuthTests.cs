using Actors.Calls.Protocol;
using Xunit;

namespace Actors.Calls.Tests.Protocol;

public sealed class CallAuthTests
{
    [Fact]
    public void A_proof_verifies_only_for_its_secret_nonce_and_identity()
    {
        var nonce = CallAuth.NewNonce();
        var proof = CallAuth.Proof("s3cret", nonce, "alice");
        Assert.True(CallAuth.Verify("s3cret", nonce, "alice", proof));
        Assert.False(CallAuth.Verify("other", nonce, "alice", proof));
        Assert.False(CallAuth.Verify("s3cret", CallAuth.NewNonce(), "alice", proof));
        Assert.False(CallAuth.Verify("s3cret", nonce, "bob", proof));
        Assert.False(CallAuth.Verify("s3cret", nonce, "alice", proof[..31]));
    }

    [Fact]
    public void Users_file_parses_names_and_secrets_and_names_the_bad_line()
    {
        var users = UserDirectory.Parse(["# comment", "", "alice:a:b", "bob:pw"]);
        Assert.True(users.TryGetSecret("alice", out var secret));
        Assert.Equal("a:b", secret);
        Assert.False(users.TryGetSecret("carol", out _));
        var ex = Assert.Throws<FormatException>(() => UserDirectory.Parse(["alice:x", "nocolon"]));
        Assert.Contains("line 2", ex.Message);
        Assert.Throws<FormatException>(() => UserDirectory.Parse(["a b:x"]));
        Assert.Throws<FormatException>(() => UserDirectory.Parse(["a:x", "a:y"]));
    }
}
