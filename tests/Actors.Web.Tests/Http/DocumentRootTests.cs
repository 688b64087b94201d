using Actors.Web.Http;
using Xunit;

namespace Actors.Web.Tests.Http;

public sealed class DocumentRootTests : IDisposable
{
    private readonly string _sandbox;
    private readonly string _root;
    private readonly string _outside;

    public DocumentRootTests()
    {
        _sandbox = Directory.CreateTempSubdirectory("docroot-test-").FullName;
        _root = Directory.CreateDirectory(Path.Combine(_sandbox, "www")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_sandbox, "secret")).FullName;
        File.WriteAllText(Path.Combine(_outside, "passwd"), "secret");
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        File.WriteAllText(Path.Combine(_root, "a", "b", "page one.html"), "hi");
        File.WriteAllText(Path.Combine(_root, "index.html"), "index");
    }

    public void Dispose() => Directory.Delete(_sandbox, recursive: true);

    [Theory]
    [InlineData("/index.html", "index.html")]
    [InlineData("/a/b/page%20one.html", "a/b/page one.html")]
    [InlineData("/a/b/", "a/b/")]
    [InlineData("/", "")]
    [InlineData("/not-there.txt", "not-there.txt")]
    [InlineData("/caf%C3%A9.txt", "caf\u00e9.txt")]
    [InlineData("/a/%252e%252e", "a/%2e%2e")]
    public void Normal_paths_resolve_under_the_root(string requestPath, string relative)
    {
        var root = new DocumentRoot(_root);
        Assert.True(root.TryResolve(requestPath, out var full));
        Assert.Equal(Path.GetFullPath(Path.Join(_root, relative)), full);
    }

    [Theory]
    [InlineData("/../etc/passwd")]
    [InlineData("/../secret/passwd")]
    [InlineData("/%2e%2e/secret/passwd")]
    [InlineData("/%2E%2E/secret/passwd")]
    [InlineData("/..%2f..%2fsecret/passwd")]
    [InlineData("/..%5csecret%5cpasswd")]
    [InlineData("/a%2fb/page")]
    [InlineData("//etc/passwd")]
    [InlineData("/a//b")]
    [InlineData("/a/%2e%2e/%2e%2e/x")]
    [InlineData("/a/./b")]
    [InlineData("/a/..")]
    [InlineData("/index.html%00.png")]
    [InlineData("/a\\..\\..\\secret")]
    [InlineData("/%")]
    [InlineData("/%zz")]
    [InlineData("/%c3")]
    [InlineData("/%ff%fe")]
    [InlineData("/\u00e9")]
    [InlineData("index.html")]
    [InlineData("")]
    public void Traversal_and_malformed_paths_are_refused(string requestPath)
    {
        Assert.False(new DocumentRoot(_root).TryResolve(requestPath, out _));
    }

    [Fact]
    public void Symlink_pointing_outside_the_root_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "leak.txt"), Path.Combine(_outside, "passwd"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "leakdir"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "a", "up"), "../.."); // relative, resolves to the sandbox

        var root = new DocumentRoot(_root);
        Assert.False(root.TryResolve("/leak.txt", out _));
        Assert.False(root.TryResolve("/leakdir/passwd", out _));
        Assert.False(root.TryResolve("/leakdir/", out _));
        Assert.False(root.TryResolve("/a/up/secret/passwd", out _));
    }

    [Fact]
    public void Symlink_pointing_inside_the_root_is_allowed()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "home.html"), Path.Combine(_root, "index.html"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "shortcut"), "a/b");

        var root = new DocumentRoot(_root);
        Assert.True(root.TryResolve("/home.html", out var file));
        Assert.Equal(Path.Combine(_root, "home.html"), file);
        Assert.True(root.TryResolve("/shortcut/page%20one.html", out var nested));
        Assert.Equal("hi", File.ReadAllText(nested));
    }

    [Fact]
    public void Symlink_loop_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "loop1"), Path.Combine(_root, "loop2"));
        File.CreateSymbolicLink(Path.Combine(_root, "loop2"), Path.Combine(_root, "loop1"));
        Assert.False(new DocumentRoot(_root).TryResolve("/loop1", out _));
    }

    [Fact]
    public void Root_reached_through_a_symlink_still_serves_its_files()
    {
        var alias = Path.Combine(_sandbox, "alias");
        Directory.CreateSymbolicLink(alias, _root);
        var root = new DocumentRoot(alias);
        Assert.True(root.TryResolve("/index.html", out var full));
        Assert.Equal("index", File.ReadAllText(full));
        Assert.False(root.TryResolve("/../secret/passwd", out _));
    }
}
