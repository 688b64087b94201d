using System.Diagnostics.Metrics;
using Actors.Lab.Agent;
using Xunit;

namespace Actors.Lab.Tests;

public sealed class MetricsReaderTests
{
    [Fact]
    public void Counters_sum_gauges_keep_the_last_value_per_tag_set()
    {
        // A meter name unique to this test: the listener is process-wide.
        using var meter = new Meter("Actors.Test." + Guid.NewGuid().ToString("N"));
        var counter = meter.CreateCounter<long>("t.count", "{x}", "a counter");
        var upDown = meter.CreateUpDownCounter<long>("t.open");
        var gauge = meter.CreateGauge<double>("t.level");
        using var reader = new MetricsReader();

        counter.Add(2);
        counter.Add(3);
        counter.Add(1, new KeyValuePair<string, object?>("b", "2"), new KeyValuePair<string, object?>("a", "1"));
        counter.Add(1, new KeyValuePair<string, object?>("a", "1"), new KeyValuePair<string, object?>("b", "2"));
        upDown.Add(5);
        upDown.Add(-2);
        gauge.Record(7.5);
        gauge.Record(2.5);

        var figures = reader.Snapshot();
        Assert.Equal(5, figures.Single(f => f.Name == "t.count" && f.Tags == "").Value);
        Assert.Equal(2, figures.Single(f => f.Name == "t.count" && f.Tags == "a=1,b=2").Value);
        Assert.Equal(Figure.Counter, figures.First(f => f.Name == "t.count").Kind);
        Assert.Equal("a counter", figures.First(f => f.Name == "t.count").Description);
        Assert.Equal(3, figures.Single(f => f.Name == "t.open").Value);
        Assert.Equal(Figure.Gauge, figures.Single(f => f.Name == "t.open").Kind);
        Assert.Equal(2.5, figures.Single(f => f.Name == "t.level").Value);
        Assert.Contains(figures, f => f.Name == "actors.process.cpu.time");
    }

    [Fact]
    public void Meters_outside_the_Actors_namespace_are_not_read()
    {
        using var meter = new Meter("Other." + Guid.NewGuid().ToString("N"));
        var counter = meter.CreateCounter<long>("other.count");
        using var reader = new MetricsReader();
        counter.Add(1);
        Assert.DoesNotContain(reader.Snapshot(), f => f.Name == "other.count");
    }
}
