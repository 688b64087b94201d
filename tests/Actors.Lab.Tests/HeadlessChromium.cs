using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Actors.Lab.Tests;

/// <summary>
/// A headless Chromium showing one page, driven over the DevTools protocol (CDP): evaluate
/// JavaScript in the live page (the dashboard keeps its SSE stream open, so --dump-dom would
/// never see it settle) and take screenshots. Disposing kills the browser and deletes its profile.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public static string? Binary => new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    private readonly string _profile = Directory.CreateTempSubdirectory("lab-chromium-").FullName;
    private readonly ClientWebSocket _socket = new();
    private Process? _process;
    private int _nextId;

    private HeadlessChromium() { }

    public static async Task<HeadlessChromium> Open(string url, int width = 1400, int height = 1000)
    {
        var port = ActorsProcess.FreePort();
        var browser = new HeadlessChromium();
        var start = new ProcessStartInfo(Binary ?? throw new InvalidOperationException("chromium is not installed"))
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                     $"--user-data-dir={browser._profile}", $"--remote-debugging-port={port}", "--remote-allow-origins=*",
                     $"--window-size={width},{height}", url })
            start.ArgumentList.Add(arg);
        try
        {
            browser._process = Process.Start(start)!;
            browser._process.OutputDataReceived += (_, _) => { };
            browser._process.ErrorDataReceived += (_, _) => { };
            browser._process.BeginOutputReadLine();
            browser._process.BeginErrorReadLine();
            await browser.Connect(port, url);
            return browser;
        }
        catch
        {
            browser.Dispose();
            throw;
        }
    }

    private async Task Connect(int port, string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"));
                var page = targets.RootElement.EnumerateArray().FirstOrDefault(t => t.GetProperty("type").GetString() == "page");
                if (page.ValueKind == JsonValueKind.Object)
                {
                    await _socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            if (DateTime.UtcNow > deadline || _process!.HasExited) throw new TimeoutException($"chromium did not open {url} for DevTools within 60 s");
            await Task.Delay(200);
        }
    }

    private async Task<JsonElement> Call(string method, object parameters)
    {
        var id = ++_nextId;
        var request = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.SendAsync(request, WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, timeout.Token);
                message.Write(buffer, 0, result.Count);
            } while (!result.EndOfMessage);
            using var doc = JsonDocument.Parse(message.ToArray());
            if (doc.RootElement.TryGetProperty("id", out var got) && got.GetInt32() == id)
            {
                if (doc.RootElement.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{method}: {error}");
                return doc.RootElement.GetProperty("result").Clone();
            }
        }
    }

    /// <summary>Evaluates an expression in the page and returns its value as a string.</summary>
    public async Task<string> Evaluate(string expression)
    {
        var result = await Call("Runtime.evaluate", new { expression = $"String({expression})", returnByValue = true });
        return result.GetProperty("result").GetProperty("value").GetString() ?? "";
    }

    /// <summary>Polls the expression until it is "true", within the timeout; returns how long it took.</summary>
    public async Task<TimeSpan> WaitUntil(string expression, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        string last = "";
        while (watch.Elapsed < timeout)
        {
            last = await Evaluate(expression);
            if (last == "true") return watch.Elapsed;
            await Task.Delay(250);
        }
        throw new TimeoutException($"{what}: not true within {timeout} (last: {last}); page: {await Evaluate("document.getElementById('nodes').innerText")}");
    }

    public async Task Screenshot(string path)
    {
        var result = await Call("Page.captureScreenshot", new { format = "png" });
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result.GetProperty("data").GetString()!));
    }

    public void Dispose()
    {
        _socket.Dispose();
        try { if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process?.Dispose();
        try { if (Directory.Exists(_profile)) Directory.Delete(_profile, true); } catch (IOException) { }
    }
}

/// <summary>A fact skipped, saying what to install, when Chromium is missing.</summary>
public sealed class FactRequiringChromiumAttribute : FactAttribute
{
    public FactRequiringChromiumAttribute()
    {
        if (HeadlessChromium.Binary is null) Skip = "Not installed: chromium (apt-get install -y chromium).";
    }
}
