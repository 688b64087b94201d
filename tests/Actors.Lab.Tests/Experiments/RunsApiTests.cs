using System.Text;
using System.Text.Json;
using Actors.Lab.Experiments;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>The dashboard's list of past runs: bundles newest first with their verdicts and plots, files served, nothing outside the folder.</summary>
public sealed class RunsApiTests
{
    [Fact]
    public void Runs_are_listed_newest_first_and_their_files_served_but_nothing_outside_the_folder()
    {
        using var temp = new TempDirectory("lab-runs-api-");
        foreach (var (stamp, passed) in new[] { ("20261127-100000", true), ("20261127-110000", false) })
        {
            var dir = temp.Dir(Path.Combine("tracker-kill", stamp));
            File.WriteAllText(Path.Combine(dir, "report.json"),
                $$"""{"passed":{{(passed ? "true" : "false")}},"seed":3,"failed":{{(passed ? "[]" : "[\"check: announces-kept\"]")}},"plots":["nodes.png"]}""");
            File.WriteAllBytes(Path.Combine(dir, "nodes.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        }
        File.WriteAllText(temp.Combine("secret.json"), "{}");

        var list = RunsApi.Reply(temp.Path, "/api/runs");
        Assert.Equal(200, list.Status);
        using var doc = JsonDocument.Parse(list.Body);
        var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["20261127-110000", "20261127-100000"], runs.Select(r => r.GetProperty("stamp").GetString()));
        Assert.False(runs[0].GetProperty("passed").GetBoolean());
        Assert.Equal("check: announces-kept", runs[0].GetProperty("failed")[0].GetString());

        var png = RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/20261127-100000/nodes.png");
        Assert.Equal(200, png.Status);
        Assert.Equal("image/png", png.ContentType);

        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/../secret.json").Status);
        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/..%2F../x/secret.json").Status);
        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/20261127-100000/missing.png").Status);
        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/20261127-100000/report.exe").Status);
        Assert.Empty(JsonDocument.Parse(RunsApi.Reply(temp.Combine("none"), "/api/runs").Body).RootElement.GetProperty("runs").EnumerateArray());
        _ = Encoding.UTF8;
    }
}
