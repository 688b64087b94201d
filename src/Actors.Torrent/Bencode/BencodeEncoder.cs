using System.Buffers;
using System.Globalization;

namespace Actors.Torrent.Bencode;

/// <summary>
/// Canonical bencode encoder: dictionaries are written in bytewise key order (which
/// <see cref="BDictionary"/> always keeps), integers without leading zeros.
/// </summary>
public static class BencodeEncoder
{
    /// <summary>Guards the stack against values built in code with absurd nesting.</summary>
    private const int MaxDepth = 1024;

    public static byte[] Encode(BValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="BencodeException">The value nests deeper than 1024 levels.</exception>
    public static void Write(IBufferWriter<byte> writer, BValue value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        Write(writer, value, 0);
    }

    private static void Write(IBufferWriter<byte> writer, BValue value, int depth)
    {
        switch (value)
        {
            case BInteger integer:
                WriteByte(writer, (byte)'i');
                WriteDecimal(writer, integer.Value);
                WriteByte(writer, (byte)'e');
                break;
            case BString text:
                WriteString(writer, text.Bytes.Span);
                break;
            case BList list:
                CheckDepth(depth);
                WriteByte(writer, (byte)'l');
                foreach (var item in list.Items)
                {
                    Write(writer, item, depth + 1);
                }
                WriteByte(writer, (byte)'e');
                break;
            case BDictionary dictionary:
                CheckDepth(depth);
                WriteByte(writer, (byte)'d');
                foreach (var (key, item) in dictionary.Entries)
                {
                    WriteString(writer, key.Bytes.Span);
                    Write(writer, item, depth + 1);
                }
                WriteByte(writer, (byte)'e');
                break;
            default:
                throw new ArgumentException($"Unknown bencode value type {value.GetType().Name}.", nameof(value));
        }
    }

    private static void CheckDepth(int depth)
    {
        if (depth >= MaxDepth)
        {
            throw new BencodeException($"value nests deeper than {MaxDepth} levels", 0);
        }
    }

    private static void WriteString(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        WriteDecimal(writer, bytes.Length);
        WriteByte(writer, (byte)':');
        writer.Write(bytes);
    }

    private static void WriteDecimal(IBufferWriter<byte> writer, long value)
    {
        var span = writer.GetSpan(20);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        writer.Advance(written);
    }

    private static void WriteByte(IBufferWriter<byte> writer, byte b)
    {
        writer.GetSpan(1)[0] = b;
        writer.Advance(1);
    }
}
