using System.Net;
using System.Text;
using Actors.Web.Http;
using Actors.Web.Server;
using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>
/// Small files served from memory: read once, checked with a stat on every request, never served
/// after the file changed, never more than the capacity, never a way out of the document root.
/// </summary>
public sealed class FileCacheTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("actors-file-cache-");
    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("actors-file-cache-outside-");
    private static readonly DateTime LongAgo = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public void Dispose()
    {
        _root.Delete(recursive: true);
        _outside.Delete(recursive: true);
    }

    private string Write(string name, string content, DateTime? lastWrite = null)
    {
        var path = Path.Combine(_root.FullName, name);
        File.WriteAllText(path, content);
        File.SetLastWriteTimeUtc(path, lastWrite ?? LongAgo);
        return path;
    }

    private (StaticFiles Files, FileCache Cache) Server(long capacity = 1 << 20, long maxFile = 64 * 1024)
    {
        var cache = new FileCache(capacity, maxFile);
        return (new StaticFiles(new DocumentRoot(_root.FullName), directoryListing: false, cache), cache);
    }

    private static HttpRequest Get(string target, string method = "GET", params (string Name, string Value)[] headers)
    {
        var fields = new HttpHeaders();
        foreach (var (name, value) in headers) fields.Add(name, value);
        return new HttpRequest(method, target, Actors.Web.Http.HttpVersion.Http11, fields, []);
    }

    private static string BodyOf(ResponsePlan plan)
    {
        if (plan.File is { } slice)
        {
            using var stream = File.OpenRead(slice.Path);
            var bytes = new byte[slice.Length];
            stream.Position = slice.Offset;
            stream.ReadExactly(bytes);
            return Encoding.UTF8.GetString(bytes);
        }
        return Encoding.UTF8.GetString(plan.Body.Span);
    }

    private static string HeaderOf(ResponsePlan plan, string name) =>
        plan.Head.ToString().Split("\r\n").Single(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..];

    [Fact]
    public void A_settled_small_file_is_read_once_and_then_served_from_memory_while_it_is_unchanged()
    {
        Write("page.html", "<p>hello</p>");
        var (files, cache) = Server();

        var first = files.Plan(Get("/page.html"));
        Assert.Equal(200, first.Status);
        Assert.Null(first.File); // the bytes read to fill the cache are the ones sent
        Assert.Equal("<p>hello</p>", BodyOf(first));
        Assert.Equal(1, cache.Count);
        Assert.Equal(0, cache.Hits);

        var second = files.Plan(Get("/page.html"));
        Assert.Equal("<p>hello</p>", BodyOf(second));
        Assert.Equal(1, cache.Hits);
        Assert.Equal(first.Head.Encode(), second.Head.Encode()); // same type, length and validators
    }

    [Fact]
    public void A_file_changed_on_disk_is_read_again_whether_its_length_or_only_its_time_changed()
    {
        var path = Write("doc.txt", "version 1");
        var (files, cache) = Server();
        Assert.Equal("version 1", BodyOf(files.Plan(Get("/doc.txt"))));

        Write("doc.txt", "version two");
        Assert.Equal("version two", BodyOf(files.Plan(Get("/doc.txt"))));

        // Same length, a different time (to the nanosecond the stat reports).
        File.WriteAllText(path, "version 3!!");
        File.SetLastWriteTimeUtc(path, LongAgo.AddTicks(1));
        Assert.Equal("version 3!!", BodyOf(files.Plan(Get("/doc.txt"))));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public void Two_versions_of_one_length_written_within_a_second_have_different_entity_tags()
    {
        // A strong validator changes whenever the bytes do (RFC 9110 §8.8.1): the tag cannot be
        // built from the one-second HTTP date alone.
        var second = new DateTime(2021, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        var path = Write("same-second.txt", "AAAA", second.AddMilliseconds(100));
        var files = new StaticFiles(new DocumentRoot(_root.FullName), directoryListing: false);
        var first = files.Plan(Get("/same-second.txt"));
        var etag = HeaderOf(first, "ETag");

        File.WriteAllText(path, "BBBB");
        File.SetLastWriteTimeUtc(path, second.AddMilliseconds(600));
        var revalidated = files.Plan(Get("/same-second.txt", headers: ("If-None-Match", etag)));
        Assert.Equal(200, revalidated.Status);
        Assert.Equal("BBBB", BodyOf(revalidated));
    }

    [Fact]
    public void A_file_modified_within_the_settle_time_is_never_kept_so_a_same_tick_rewrite_is_seen()
    {
        // Two writes of the same length within one tick of the file system's clock leave size and
        // time unchanged: the cache must not have kept the first.
        var justNow = DateTime.UtcNow;
        var path = Write("racy.txt", "AAAA", justNow);
        var (files, cache) = Server();
        Assert.Equal("AAAA", BodyOf(files.Plan(Get("/racy.txt"))));
        Assert.Equal(0, cache.Count);

        File.WriteAllText(path, "BBBB");
        File.SetLastWriteTimeUtc(path, justNow);
        Assert.Equal("BBBB", BodyOf(files.Plan(Get("/racy.txt"))));
    }

    [Fact]
    public void A_cached_file_that_is_deleted_is_404()
    {
        var path = Write("gone.txt", "here");
        var (files, cache) = Server();
        files.Plan(Get("/gone.txt"));
        Assert.Equal(1, cache.Count);

        File.Delete(path);
        Assert.Equal(404, files.Plan(Get("/gone.txt")).Status);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_cached_file_swapped_for_a_link_out_of_the_root_is_refused_not_served()
    {
        if (OperatingSystem.IsWindows()) return; // symbolic links need privileges there
        var path = Write("link.txt", "inside");
        var secret = Path.Combine(_outside.FullName, "secret.txt");
        File.WriteAllText(secret, "secret outside the root");
        var (files, _) = Server();
        Assert.Equal("inside", BodyOf(files.Plan(Get("/link.txt"))));

        File.Delete(path);
        File.CreateSymbolicLink(path, secret);
        var plan = files.Plan(Get("/link.txt"));
        Assert.Equal(404, plan.Status);
        Assert.DoesNotContain("secret", BodyOf(plan));
    }

    [Fact]
    public void A_link_pointed_at_another_file_serves_the_new_target_at_once()
    {
        if (OperatingSystem.IsWindows()) return;
        Write("one.txt", "first target");
        Write("two.txt", "second target");
        var link = Path.Combine(_root.FullName, "current.txt");
        File.CreateSymbolicLink(link, Path.Combine(_root.FullName, "one.txt"));
        var (files, cache) = Server();
        Assert.Equal("first target", BodyOf(files.Plan(Get("/current.txt"))));
        Assert.Equal(0, cache.Count); // through a link: from disk, every time

        File.Delete(link);
        File.CreateSymbolicLink(link, Path.Combine(_root.FullName, "two.txt"));
        Assert.Equal("second target", BodyOf(files.Plan(Get("/current.txt"))));
    }

    [Fact]
    public void A_mode_change_makes_the_file_be_read_again()
    {
        if (OperatingSystem.IsWindows()) return;
        var path = Write("mode.txt", "x");
        var (files, cache) = Server();
        files.Plan(Get("/mode.txt"));
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        files.Plan(Get("/mode.txt"));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public void Range_and_head_requests_are_answered_from_the_cached_bytes()
    {
        Write("digits.txt", "0123456789");
        var (files, cache) = Server();
        files.Plan(Get("/digits.txt"));

        var partial = files.Plan(Get("/digits.txt", headers: ("Range", "bytes=2-5")));
        Assert.Equal(206, partial.Status);
        Assert.Equal("2345", BodyOf(partial));

        var head = files.Plan(Get("/digits.txt", "HEAD"));
        Assert.Equal(200, head.Status);
        Assert.False(head.SendBody);
        Assert.Equal(10, head.BodyLength);
        Assert.Equal(2, cache.Hits);
    }

    [Fact]
    public void Files_larger_than_the_limit_are_served_from_disk()
    {
        Write("big.txt", new string('b', 200));
        var (files, cache) = Server(maxFile: 100);
        var plan = files.Plan(Get("/big.txt"));
        Assert.NotNull(plan.File);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void The_cache_never_holds_more_than_its_capacity_and_keeps_what_is_in_use()
    {
        const int capacity = 8 * (1000 + FileCache.EntryOverhead);
        var (files, cache) = Server(capacity);
        for (var i = 0; i < 40; i++)
        {
            Write($"f{i}.txt", new string((char)('a' + i % 26), 1000));
            Assert.Equal(new string((char)('a' + i % 26), 1000), BodyOf(files.Plan(Get($"/f{i}.txt"))));
            // f0 is asked for between every other file: the sweep keeps it.
            Assert.Equal(new string('a', 1000), BodyOf(files.Plan(Get("/f0.txt"))));
            Assert.InRange(cache.Bytes, 0, capacity);
        }
        Assert.InRange(cache.Count, 2, 8);
        var hitsBefore = cache.Hits;
        files.Plan(Get("/f0.txt"));
        Assert.Equal(hitsBefore + 1, cache.Hits);
    }
}

/// <summary>Many connections at once: the cache is one object every connection actor consults on its own thread.</summary>
public sealed class FileCacheConcurrencyTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("actors-file-cache-threads-");

    public void Dispose() => _root.Delete(recursive: true);

    [Theory]
    [InlineData(3)] // room for half the files: the sweep runs while others read
    [InlineData(12)] // room for all: nothing is evicted, so a stale entry would stay to the end
    public async Task Readers_on_many_threads_while_files_change_see_only_whole_versions_and_the_last_one_at_the_end(int room)
    {
        // Each version of a file has its own length and its own (old) time, so every rewrite is a
        // change the stat can see.
        const int files = 6, versions = 40, readers = 4;
        static string Version(int file, int version) => new((char)('a' + file), 100 + version * 7);
        var stamp = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var f = 0; f < files; f++)
        {
            var path = Path.Combine(_root.FullName, $"f{f}.txt");
            File.WriteAllText(path, Version(f, 0));
            File.SetLastWriteTimeUtc(path, stamp);
        }
        long capacity = room * (400 + FileCache.EntryOverhead);
        var cache = new FileCache(capacity, 64 * 1024);
        var staticFiles = new StaticFiles(new DocumentRoot(_root.FullName), directoryListing: false, cache);
        var written = Enumerable.Range(0, files).Select(f => new HashSet<string> { Version(f, 0) }).ToArray();
        var lockWritten = new object();
        using var writing = new CancellationTokenSource();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();

        // Every file cached at its first version before anything changes.
        for (var f = 0; f < files; f++)
            staticFiles.Plan(new HttpRequest("GET", $"/f{f}.txt", Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []));
        if (room >= files) Assert.Equal(files, cache.Count);
        else Assert.InRange(cache.Count, 1, files - 1);

        var readerTasks = Enumerable.Range(0, readers).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            for (var i = 0; i < 20_000 && !writing.IsCancellationRequested; i++)
            {
                var f = random.Next(files);
                var plan = staticFiles.Plan(new HttpRequest("GET", $"/f{f}.txt", Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []));
                if (plan.File is not null) continue; // read from disk this time (not settled, or evicted meanwhile)
                var body = Encoding.UTF8.GetString(plan.Body.Span);
                lock (lockWritten)
                    if (!written[f].Contains(body)) errors.Enqueue($"f{f}: a body that was never a whole version ({body.Length} bytes)");
                if (cache.Bytes > capacity) errors.Enqueue($"cache holds {cache.Bytes} bytes, capacity {capacity}");
            }
        })).ToArray();

        for (var v = 1; v < versions; v++)
            for (var f = 0; f < files; f++)
            {
                var path = Path.Combine(_root.FullName, $"f{f}.txt");
                lock (lockWritten) written[f].Add(Version(f, v));
                // Written beside and renamed over, as deploy tools do: a reader opens the old or the new file, never half of one.
                var temp = path + ".new";
                File.WriteAllText(temp, Version(f, v));
                File.SetLastWriteTimeUtc(temp, stamp.AddSeconds(v));
                File.Move(temp, path, overwrite: true);
            }
        writing.CancelAfter(TimeSpan.FromMilliseconds(200));
        await Task.WhenAll(readerTasks).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Empty(errors);
        for (var f = 0; f < files; f++)
        {
            var plan = staticFiles.Plan(new HttpRequest("GET", $"/f{f}.txt", Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []));
            var body = plan.File is { } slice ? File.ReadAllText(slice.Path) : Encoding.UTF8.GetString(plan.Body.Span);
            Assert.Equal(Version(f, versions - 1), body);
        }
        Assert.InRange(cache.Bytes, 0, capacity);
    }
}

/// <summary>
/// Files whose stat and bytes might disagree: a slice planned before a rename-over, a file behind
/// a link, a cached file changed on disk (the last two through a running server).
/// </summary>
public sealed class FileCacheServerTests : WebServerHarness
{
    [Fact]
    public void A_planned_slice_no_longer_describes_a_file_renamed_over_before_it_was_opened()
    {
        // The head is built from a stat by path, the body read from the file opened afterwards:
        // between the two a deploy may rename a new version over it.
        var path = WriteFile("deploy.txt", "version 1");
        var files = new StaticFiles(new DocumentRoot(Root.FullName), directoryListing: false);
        var slice = files.Plan(new HttpRequest("GET", "/deploy.txt", Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), [])).File!;
        using (var same = File.OpenHandle(path))
            Assert.True(slice.Describes(same));

        var next = WriteFile("deploy.txt.new", "version 2, longer");
        File.Move(next, path, overwrite: true);
        using var replaced = File.OpenHandle(path);
        Assert.False(slice.Describes(replaced));
    }

    [Fact]
    public async Task A_file_reached_through_a_link_inside_the_root_is_served_whole()
    {
        if (OperatingSystem.IsWindows()) return;
        // Longer than the link's own length (its target's path), which FileInfo reports for a link:
        // the head once said that length and the body was cut to it.
        var content = "through a link " + new string('x', 300);
        WriteFile("target.txt", content);
        File.CreateSymbolicLink(Path.Combine(Root.FullName, "link.txt"), Path.Combine(Root.FullName, "target.txt"));
        var port = await StartServer(Settings(Root.FullName) with { FileCacheBytes = 1 << 20 });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = Timeout };
        Assert.Equal(content, await client.GetStringAsync("link.txt"));
    }

    [Fact]
    public async Task A_server_with_a_file_cache_serves_a_file_changed_on_disk_at_once()
    {
        var path = WriteFile("news.txt", "old news");
        File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var port = await StartServer(Settings(Root.FullName) with { FileCacheBytes = 1 << 20 });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = Timeout };

        Assert.Equal("old news", await client.GetStringAsync("news.txt"));
        Assert.Equal("old news", await client.GetStringAsync("news.txt"));
        File.WriteAllText(path, "new news!");
        Assert.Equal("new news!", await client.GetStringAsync("news.txt"));
        using var missing = await client.GetAsync("nothing.txt");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
