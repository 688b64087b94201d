using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;

namespace Actors.Lab.Agent;

/// <summary>
/// Reads every instrument of the meters named "Actors.*" through one <see cref="MeterListener"/>:
/// counters and up-down counters are summed, gauges keep their last value, per tag set.
/// Measurements arrive on whatever thread records them, so the cells are lock-free
/// (Interlocked); <see cref="Snapshot"/> copies them out. Disposing stops listening.
/// </summary>
public sealed class MetricsReader : IDisposable
{
    public const string MeterPrefix = "Actors.";

    private sealed class Cell
    {
        private long _bits; // a double's bits, so gauges and sums both stay lock-free
        public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));
        public void Set(double v) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(v));
        public void Add(double v)
        {
            while (true)
            {
                var old = Interlocked.Read(ref _bits);
                var next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(old) + v);
                if (Interlocked.CompareExchange(ref _bits, next, old) == old) return;
            }
        }
    }

    /// <summary>One instrument's cells: the untagged one without a lookup (the hot path), tagged ones by key.</summary>
    private sealed class Series(Instrument instrument, string kind, bool sums)
    {
        public readonly Instrument Instrument = instrument;
        public readonly string Kind = kind;
        public readonly bool Sums = sums;
        public readonly Cell Untagged = new();
        public volatile bool UntaggedSeen;
        public readonly ConcurrentDictionary<string, Cell> Tagged = new(StringComparer.Ordinal);
    }

    private static readonly Lazy<MetricsReader> LazyShared = new(() => new MetricsReader());

    /// <summary>
    /// The process' reader, listening from its first use on. The host touches it before any role
    /// starts, so an up-down counter never misses its first increments.
    /// </summary>
    public static MetricsReader Shared => LazyShared.Value;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Series> _series = new();

    public MetricsReader()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!instrument.Meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal)) return;
            var (kind, sums) = instrument switch
            {
                Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => (Figure.Counter, true),
                UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> => (Figure.Gauge, true),
                _ => (Figure.Gauge, false),
            };
            var series = _series.GetOrAdd(instrument, i => new Series(i, kind, sums));
            listener.EnableMeasurementEvents(instrument, series);
        };
        _listener.SetMeasurementEventCallback<long>((i, m, t, s) => Record(s, m, t));
        _listener.SetMeasurementEventCallback<int>((i, m, t, s) => Record(s, m, t));
        _listener.SetMeasurementEventCallback<double>((i, m, t, s) => Record(s, m, t));
        _listener.Start();
    }

    private static void Record(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (state is not Series series) return;
        Cell cell;
        if (tags.Length == 0)
        {
            cell = series.Untagged;
            series.UntaggedSeen = true;
        }
        else cell = series.Tagged.GetOrAdd(TagKey(tags), _ => new Cell());
        if (series.Sums) cell.Add(value); else cell.Set(value);
    }

    /// <summary>"a=1,b=x": tags sorted by key, so one tag set always maps to one series.</summary>
    public static string TagKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var pairs = new List<KeyValuePair<string, object?>>(tags.Length);
        foreach (var tag in tags) pairs.Add(tag);
        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var key = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            if (key.Length > 0) key.Append(',');
            // ',' and '=' would break the key's shape: replaced in values.
            key.Append(name).Append('=').Append((value?.ToString() ?? "").Replace(',', '_').Replace('=', '_'));
        }
        return key.ToString();
    }

    /// <summary>Every series now, plus this process' CPU time and memory.</summary>
    public IReadOnlyList<Figure> Snapshot()
    {
        _listener.RecordObservableInstruments();
        var figures = new List<Figure>();
        foreach (var series in _series.Values)
        {
            var i = series.Instrument;
            if (series.UntaggedSeen)
                figures.Add(new Figure(i.Name, series.Kind, i.Unit ?? "", i.Description ?? "", "", series.Untagged.Value));
            foreach (var (tags, cell) in series.Tagged)
                figures.Add(new Figure(i.Name, series.Kind, i.Unit ?? "", i.Description ?? "", tags, cell.Value));
        }
        using var process = Process.GetCurrentProcess();
        figures.Add(new Figure("actors.process.cpu.time", Figure.Counter, "s", "CPU time used by the process", "", process.TotalProcessorTime.TotalSeconds));
        figures.Add(new Figure("actors.process.memory.working_set", Figure.Gauge, "By", "resident memory of the process", "", process.WorkingSet64));
        figures.Add(new Figure("actors.process.gc.heap", Figure.Gauge, "By", "managed heap size", "", GC.GetTotalMemory(false)));
        figures.Sort((a, b) => string.CompareOrdinal(a.Name + a.Tags, b.Name + b.Tags));
        return figures;
    }

    public void Dispose() => _listener.Dispose();
}
