using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>Clients we did not write — curl and headless Chromium — against our server.</summary>
public sealed class RealClientTests : WebServerHarness
{
    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(string file, params string[] args)
    {
        var result = await ProcessRunner.RunAsync(file, args, TimeSpan.FromSeconds(60));
        if (result.TimedOut) throw new TimeoutException($"{file} did not finish");
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> Curl(params string[] args) =>
        Run("curl", ["--silent", "--show-error", "--max-time", "20", .. args]);

    [FactRequiringTools("curl")]
    public async Task Curl_gets_a_file_with_its_headers()
    {
        WriteFile("hello.txt", "hello curl\n");
        var port = await StartServer();
        var (code, output, _) = await Curl("-i", $"http://127.0.0.1:{port}/hello.txt");
        Assert.Equal(0, code);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", output);
        Assert.Contains("Content-Length: 11\r\n", output);
        Assert.EndsWith("\r\n\r\nhello curl\n", output);
    }

    [FactRequiringTools("curl")]
    public async Task Curl_head_gets_headers_only()
    {
        WriteFile("data.bin", new byte[5000]);
        var port = await StartServer();
        var (code, output, _) = await Curl("-I", $"http://127.0.0.1:{port}/data.bin");
        Assert.Equal(0, code);
        Assert.StartsWith("HTTP/1.1 200 OK", output);
        Assert.Contains("Content-Length: 5000", output);
        Assert.EndsWith("\r\n\r\n", output);
    }

    [FactRequiringTools("curl")]
    public async Task Curl_range_gets_just_that_part()
    {
        WriteFile("abc.txt", "abcdefghijklmnopqrstuvwxyz");
        var port = await StartServer();
        var (code, output, _) = await Curl("-r", "3-7", "-w", " %{http_code}", $"http://127.0.0.1:{port}/abc.txt");
        Assert.Equal(0, code);
        Assert.Equal("defgh 206", output);
    }

    [FactRequiringTools("curl")]
    public async Task Curl_conditional_get_by_date_gets_304()
    {
        var path = WriteFile("old.txt", "old");
        File.SetLastWriteTimeUtc(path, new DateTime(2021, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        var port = await StartServer();
        var (_, notModified, _) = await Curl("-z", "Thu, 06 May 2021 07:08:09 GMT", "-w", "%{http_code}", $"http://127.0.0.1:{port}/old.txt");
        Assert.Equal("304", notModified);
        var (_, modified, _) = await Curl("-z", "Wed, 05 May 2021 07:08:09 GMT", "-w", " %{http_code}", $"http://127.0.0.1:{port}/old.txt");
        Assert.Equal("old 200", modified);
    }

    [FactRequiringTools("curl")]
    public async Task Curl_reuses_one_connection_for_several_urls()
    {
        WriteFile("a.txt", "A");
        WriteFile("b.txt", "B");
        var port = await StartServer();
        var (code, output, log) = await Curl("-v", $"http://127.0.0.1:{port}/a.txt", $"http://127.0.0.1:{port}/b.txt");
        Assert.Equal(0, code);
        Assert.Equal("AB", output);
        Assert.Contains("Re-using existing connection", log);
        Assert.Single(log.Split('\n'), l => l.Contains("Connected to"));
    }

    [FactRequiringTools("curl")]
    public async Task Curl_path_as_is_traversal_reads_nothing()
    {
        File.WriteAllText(Path.Combine(Outside.FullName, "secret.txt"), "SECRET");
        var port = await StartServer();
        var (_, output, _) = await Curl("--path-as-is", "-w", " %{http_code}", $"http://127.0.0.1:{port}/../{Outside.Name}/secret.txt");
        Assert.DoesNotContain("SECRET", output);
        Assert.EndsWith("404", output);
    }

    [FactRequiringTools("chromium")]
    public async Task Headless_chromium_renders_the_index_page()
    {
        WriteFile("index.html", "<!DOCTYPE html><html><body><h1 id=t>Served by Actors</h1><script>document.getElementById('t').dataset.ran='yes'</script><script src=\"app.js\"></script></body></html>");
        WriteFile("app.js", "document.body.insertAdjacentHTML('beforeend', '<p id=js>script loaded</p>');");
        var port = await StartServer();
        var profile = Directory.CreateTempSubdirectory("actors-chromium-");
        try
        {
            var (code, dom, log) = await Run("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                $"--user-data-dir={profile.FullName}", "--dump-dom", $"http://127.0.0.1:{port}/");
            Assert.True(code == 0, log);
            Assert.Contains("data-ran=\"yes\"", dom);          // the page's inline script ran
            Assert.Contains("<p id=\"js\">script loaded</p>", dom); // and app.js came from us with a JavaScript type
        }
        finally { profile.Delete(recursive: true); }
    }
}
