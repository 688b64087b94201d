using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>No request reads outside the document root, however the path is spelled.</summary>
public sealed class TraversalTests : WebServerHarness
{
    private const string Secret = "TOP-SECRET-CONTENT";

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/..%2fsecret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/%2E%2E/%2E%2E/secret.txt")]
    [InlineData("/sub/../../secret.txt")]
    [InlineData("/sub/%2e%2e/%2e%2e/secret.txt")]
    [InlineData("/..%5csecret.txt")]
    [InlineData("//secret.txt")]
    [InlineData("/sub//../../secret.txt")]
    [InlineData("/link-out/secret.txt")]
    [InlineData("/link-file")]
    [InlineData("/%00/secret.txt")]
    [InlineData("/sub/..%00/secret.txt")]
    public async Task A_path_that_escapes_the_root_reads_nothing(string path)
    {
        File.WriteAllText(Path.Combine(Outside.FullName, "secret.txt"), Secret);
        // The root sits next to "outside"; the raw target is built so that ".." from the root lands there.
        WriteFile("sub/inside.txt", "inside");
        Directory.CreateSymbolicLink(Path.Combine(Root.FullName, "link-out"), Outside.FullName);
        File.CreateSymbolicLink(Path.Combine(Root.FullName, "link-file"), Path.Combine(Outside.FullName, "secret.txt"));
        var target = path.Replace("secret.txt", Outside.Name + "/secret.txt").Replace("/link-out/" + Outside.Name + "/", "/link-out/");
        var port = await StartServer();

        var response = await SendAndReadToClose(port, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.DoesNotContain(Secret, response);
        Assert.Matches("^HTTP/1.1 (400|404) ", StatusLine(response));
    }

    [Fact]
    public async Task A_symlink_that_stays_inside_the_root_is_served()
    {
        WriteFile("real/file.txt", "real");
        Directory.CreateSymbolicLink(Path.Combine(Root.FullName, "alias"), Path.Combine(Root.FullName, "real"));
        var port = await StartServer();
        var response = await SendAndReadToClose(port, "GET /alias/file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.EndsWith("real", response);
    }

    [Fact]
    public async Task Percent_encoded_names_inside_the_root_are_served()
    {
        WriteFile("with space.txt", "spaced");
        var port = await StartServer();
        var response = await SendAndReadToClose(port, "GET /with%20space.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.EndsWith("spaced", response);
    }
}
