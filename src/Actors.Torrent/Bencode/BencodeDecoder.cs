namespace Actors.Torrent.Bencode;

/// <summary>
/// Strict bencode decoder (BEP 3). Accepts only the canonical encoding: no leading zeros, no
/// <c>-0</c>, dictionary keys unique and in bytewise order, nothing after the top-level value
/// (with <see cref="BencodeLimits.AllowUnsortedKeys"/>, keys may come in any order; still unique).
/// Every length is checked against the remaining input before anything is allocated; nesting is
/// bounded by <see cref="BencodeLimits.MaxDepth"/> (recursion is depth-limited).
/// </summary>
/// <remarks>
/// Decoded <see cref="BDictionary"/> values remember the byte range of each value in the input
/// (<see cref="BDictionary.TryGetSourceRange"/>), so callers can hash raw sub-values such as the
/// <c>info</c> dictionary of a .torrent file.
/// </remarks>
public static class BencodeDecoder
{
    /// <summary>Decodes exactly one value that spans all of <paramref name="data"/>.</summary>
    /// <exception cref="BencodeException">The input is invalid or exceeds the limits.</exception>
    public static BValue Decode(ReadOnlySpan<byte> data, BencodeLimits? limits = null)
    {
        var reader = new Reader(data, limits ?? BencodeLimits.Default);
        var value = reader.ReadValue(depth: 0);
        if (reader.Position != data.Length)
        {
            throw new BencodeException($"{data.Length - reader.Position} unexpected byte(s) after the top-level value", reader.Position);
        }
        return value;
    }

    /// <summary>
    /// Decodes one value at the start of <paramref name="data"/> and reports how many bytes it
    /// used; the rest is left to the caller (e.g. BEP 9 metadata messages, where raw bytes
    /// follow a bencoded dictionary).
    /// </summary>
    /// <exception cref="BencodeException">The value is invalid or exceeds the limits.</exception>
    public static BValue DecodePrefix(ReadOnlySpan<byte> data, out int consumed, BencodeLimits? limits = null)
    {
        var reader = new Reader(data, limits ?? BencodeLimits.Default);
        var value = reader.ReadValue(depth: 0);
        consumed = reader.Position;
        return value;
    }

    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly BencodeLimits _limits;
        private int _elements;

        public Reader(ReadOnlySpan<byte> data, BencodeLimits limits)
        {
            if (data.Length > limits.MaxInputBytes)
            {
                throw new BencodeException($"input of {data.Length} bytes exceeds the limit of {limits.MaxInputBytes}", 0);
            }
            _data = data;
            _limits = limits;
        }

        public int Position { get; private set; }

        public BValue ReadValue(int depth)
        {
            if (++_elements > _limits.MaxElements)
            {
                throw new BencodeException($"more than {_limits.MaxElements} elements", Position);
            }
            var b = Peek("a value");
            return b switch
            {
                (byte)'i' => ReadInteger(),
                (byte)'l' => ReadList(depth + 1),
                (byte)'d' => ReadDictionary(depth + 1),
                >= (byte)'0' and <= (byte)'9' => ReadString(),
                _ => throw new BencodeException($"unexpected byte {Describe(b)}, expected 'i', 'l', 'd' or a digit", Position),
            };
        }

        private BInteger ReadInteger()
        {
            var start = Position;
            Position++; // 'i'
            var negative = false;
            if (Peek("an integer") == (byte)'-')
            {
                negative = true;
                Position++;
            }
            var digitsStart = Position;
            // Accumulate the magnitude; long.MinValue's magnitude is one more than long.MaxValue.
            var limit = negative ? (ulong)long.MaxValue + 1 : long.MaxValue;
            ulong magnitude = 0;
            byte b;
            while ((b = Peek("an integer")) is >= (byte)'0' and <= (byte)'9')
            {
                var digit = (ulong)(b - '0');
                if (magnitude > (limit - digit) / 10)
                {
                    throw new BencodeException("integer does not fit in 64 bits", start);
                }
                magnitude = magnitude * 10 + digit;
                Position++;
            }
            var digits = Position - digitsStart;
            if (b != (byte)'e')
            {
                throw new BencodeException($"unexpected byte {Describe(b)} in integer", Position);
            }
            if (digits == 0)
            {
                throw new BencodeException(negative ? "integer '-' without digits" : "empty integer", start);
            }
            if (digits > 1 && _data[digitsStart] == (byte)'0')
            {
                throw new BencodeException("integer with a leading zero", start);
            }
            if (negative && magnitude == 0)
            {
                throw new BencodeException("negative zero", start);
            }
            Position++; // 'e'
            return new BInteger(negative ? unchecked((long)(0 - magnitude)) : (long)magnitude);
        }

        private BString ReadString()
        {
            var span = ReadStringSpan();
            return new BString(span.ToArray());
        }

        /// <summary>Reads a string's header and returns its bytes as a slice of the input.</summary>
        private ReadOnlySpan<byte> ReadStringSpan()
        {
            var start = Position;
            long length = 0;
            byte b;
            while ((b = Peek("a string length")) is >= (byte)'0' and <= (byte)'9')
            {
                length = length * 10 + (b - '0');
                // Checked as we go: a huge prefix fails here, before it can overflow or allocate.
                if (length > _data.Length - Position - 1)
                {
                    throw new BencodeException("string length exceeds the remaining input", start);
                }
                Position++;
            }
            if (b != (byte)':')
            {
                throw new BencodeException($"unexpected byte {Describe(b)} in string length", Position);
            }
            if (Position - start > 1 && _data[start] == (byte)'0')
            {
                throw new BencodeException("string length with a leading zero", start);
            }
            Position++; // ':'
            if (length > _data.Length - Position)
            {
                throw new BencodeException("string length exceeds the remaining input", start);
            }
            var bytes = _data.Slice(Position, (int)length);
            Position += (int)length;
            return bytes;
        }

        private BList ReadList(int depth)
        {
            CheckDepth(depth);
            Position++; // 'l'
            var items = new List<BValue>();
            while (Peek("a list item or 'e'") != (byte)'e')
            {
                items.Add(ReadValue(depth));
            }
            Position++; // 'e'
            return new BList(items.ToArray());
        }

        private BDictionary ReadDictionary(int depth)
        {
            CheckDepth(depth);
            Position++; // 'd'
            var entries = new List<KeyValuePair<BString, BValue>>();
            var sources = new List<Range>();
            // Only lenient decodes need the key offsets (for the error on a duplicate found after sorting).
            var keyStarts = _limits.AllowUnsortedKeys ? new List<int>() : null;
            var unsorted = false;
            ReadOnlySpan<byte> previousKey = default;
            byte b;
            while ((b = Peek("a dictionary key or 'e'")) != (byte)'e')
            {
                if (b is < (byte)'0' or > (byte)'9')
                {
                    throw new BencodeException($"dictionary key must be a byte string, found {Describe(b)}", Position);
                }
                if (++_elements > _limits.MaxElements)
                {
                    throw new BencodeException($"more than {_limits.MaxElements} elements", Position);
                }
                var keyStart = Position;
                var key = ReadStringSpan();
                if (entries.Count > 0)
                {
                    var order = previousKey.SequenceCompareTo(key);
                    if (order == 0)
                    {
                        throw new BencodeException("duplicate dictionary key", keyStart);
                    }
                    if (order > 0)
                    {
                        if (!_limits.AllowUnsortedKeys)
                        {
                            throw new BencodeException("dictionary keys are not in sorted order", keyStart);
                        }
                        unsorted = true;
                    }
                }
                previousKey = key;
                var valueStart = Position;
                var value = ReadValue(depth);
                entries.Add(new(new BString(key.ToArray()), value));
                sources.Add(new Range(valueStart, Position));
                keyStarts?.Add(keyStart);
            }
            Position++; // 'e'
            var entryArray = entries.ToArray();
            var sourceArray = sources.ToArray();
            if (unsorted)
            {
                SortKeys(entryArray, sourceArray, keyStarts!);
            }
            return new BDictionary(entryArray, sourceArray);
        }

        /// <summary>
        /// Lenient mode: puts the entries (and their source ranges) in key order, as
        /// <see cref="BDictionary"/> requires, and refuses a key that appears twice anywhere.
        /// </summary>
        private static void SortKeys(KeyValuePair<BString, BValue>[] entries, Range[] sources, List<int> keyStarts)
        {
            var order = new int[entries.Length];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
            Array.Sort(order, (a, b) => entries[a].Key.CompareTo(entries[b].Key));
            for (var i = 1; i < order.Length; i++)
            {
                if (entries[order[i - 1]].Key.Equals(entries[order[i]].Key))
                {
                    throw new BencodeException("duplicate dictionary key", keyStarts[Math.Max(order[i - 1], order[i])]);
                }
            }
            var sortedEntries = order.Select(i => entries[i]).ToArray();
            var sortedSources = order.Select(i => sources[i]).ToArray();
            sortedEntries.CopyTo(entries, 0);
            sortedSources.CopyTo(sources, 0);
        }

        private readonly void CheckDepth(int depth)
        {
            if (depth > _limits.MaxDepth)
            {
                throw new BencodeException($"nesting deeper than {_limits.MaxDepth}", Position);
            }
        }

        private readonly byte Peek(string expected)
        {
            if (Position >= _data.Length)
            {
                throw new BencodeException($"unexpected end of input, expected {expected}", Position);
            }
            return _data[Position];
        }

        private static string Describe(byte b) =>
            b is >= 0x20 and < 0x7F ? $"'{(char)b}'" : $"0x{b:x2}";
    }
}
