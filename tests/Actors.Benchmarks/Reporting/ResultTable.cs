using System.Globalization;

namespace Actors.Benchmarks.Reporting;

/// <summary>A plain fixed-width text table: readable in a terminal and in a CI log.</summary>
public sealed class ResultTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Print()
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        Console.WriteLine(Format(headers, widths));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            Console.WriteLine(Format(row, widths));
        }
    }

    public static string Number(double? value, string format = "N0") =>
        value is { } v && !double.IsNaN(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    public static string Ratio(double ratio) =>
        double.IsNaN(ratio) ? "n/a" : ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    // First column left-aligned (names), the rest right-aligned (numbers).
    private static string Format(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
}
