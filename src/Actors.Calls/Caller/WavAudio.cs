using System.Buffers.Binary;

namespace Actors.Calls.Caller;

/// <summary>
/// 16-bit PCM WAV (mono or stereo) cut into media frames. Pure: parses a byte span with explicit
/// limits and says exactly what is wrong with a file it refuses.
/// </summary>
public sealed class WavAudio
{
    /// <summary>Largest file accepted (about 5 min of 48 kHz stereo).</summary>
    public const int MaxFileBytes = 64 * 1024 * 1024;
    private const int MaxChunks = 64;

    private WavAudio(int sampleRate, int channels, byte[] pcm)
    {
        SampleRate = sampleRate;
        Channels = channels;
        Pcm = pcm;
    }

    public int SampleRate { get; }
    public int Channels { get; }
    /// <summary>Interleaved little-endian 16-bit samples.</summary>
    public byte[] Pcm { get; }
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Pcm.Length / (SampleRate * Channels * 2));

    public static WavAudio Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new InvalidDataException($"{path}: no such file");
        if (info.Length > MaxFileBytes) throw new InvalidDataException($"{path}: {info.Length} bytes, more than the {MaxFileBytes}-byte limit");
        return Parse(File.ReadAllBytes(path));
    }

    public static WavAudio Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length > MaxFileBytes) throw Bad($"{file.Length} bytes, more than the {MaxFileBytes}-byte limit");
        if (file.Length < 12 || !file[..4].SequenceEqual("RIFF"u8) || !file[8..12].SequenceEqual("WAVE"u8))
            throw Bad("not a RIFF/WAVE file");
        var riffSize = BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);
        if (riffSize < 4 || riffSize > (uint)file.Length - 8) throw Bad($"truncated: the RIFF header announces {riffSize + 8L} bytes, the file has {file.Length}");

        var body = file[12..(int)(8 + riffSize)];
        (int Rate, int Channels)? format = null;
        for (var chunks = 0; body.Length > 0; chunks++)
        {
            if (chunks == MaxChunks) throw Bad($"more than {MaxChunks} chunks");
            if (body.Length < 8) throw Bad("truncated chunk header");
            var id = body[..4];
            var size = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
            if (size > (uint)body.Length - 8) throw Bad($"truncated: chunk '{Name(id)}' announces {size} bytes, {body.Length - 8} remain");
            var content = body.Slice(8, (int)size);
            if (id.SequenceEqual("fmt "u8)) format = ReadFormat(content);
            else if (id.SequenceEqual("data"u8))
            {
                if (format is not { } f) throw Bad("no 'fmt ' chunk before 'data'");
                if (size == 0) throw Bad("no samples");
                if (size % (uint)(f.Channels * 2) != 0) throw Bad($"data size {size} is not a whole number of {f.Channels * 2}-byte sample frames");
                return new WavAudio(f.Rate, f.Channels, content.ToArray());
            }
            // Chunks are padded to an even size.
            var next = 8 + (int)size + (int)(size & 1);
            body = next >= body.Length ? [] : body[next..];
        }
        throw Bad(format is null ? "no 'fmt ' chunk" : "no 'data' chunk");
    }

    private static (int, int) ReadFormat(ReadOnlySpan<byte> fmt)
    {
        if (fmt.Length < 16) throw Bad($"'fmt ' chunk of {fmt.Length} bytes, at least 16 expected");
        var tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        var byteRate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[8..]);
        var blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        if (tag != 1) throw Bad($"format {tag}, only PCM (1) is supported");
        if (bits != 16) throw Bad($"{bits}-bit samples, only 16-bit is supported");
        if (channels is not (1 or 2)) throw Bad($"{channels} channels, only mono or stereo is supported");
        if (rate is < 8000 or > 48000) throw Bad($"sample rate {rate} Hz, 8000–48000 supported");
        if (blockAlign != channels * 2 || byteRate != rate * blockAlign) throw Bad("inconsistent block align or byte rate");
        return ((int)rate, channels);
    }

    /// <summary>
    /// The audio cut into frames of <paramref name="interval"/> (20 ms: 640 bytes at 16 kHz mono);
    /// the last frame is padded with silence.
    /// </summary>
    public IReadOnlyList<byte[]> Frames(TimeSpan interval)
    {
        var frameBytes = (int)(SampleRate * interval.TotalSeconds) * Channels * 2;
        if (frameBytes <= 0) throw new ArgumentOutOfRangeException(nameof(interval), "shorter than one sample");
        var frames = new List<byte[]>(Pcm.Length / frameBytes + 1);
        for (var offset = 0; offset < Pcm.Length; offset += frameBytes)
        {
            var frame = new byte[frameBytes];
            Pcm.AsSpan(offset, Math.Min(frameBytes, Pcm.Length - offset)).CopyTo(frame);
            frames.Add(frame);
        }
        return frames;
    }

    /// <summary>A WAV file of a sine tone (for tests and demos).</summary>
    public static byte[] Generate(int sampleRate, int channels, TimeSpan duration, double hz = 440)
    {
        var samples = (int)(sampleRate * duration.TotalSeconds);
        var data = samples * channels * 2;
        var file = new byte[44 + data];
        "RIFF"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)(36 + data));
        "WAVEfmt "u8.CopyTo(file.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(22), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24), (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(28), (uint)(sampleRate * channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(32), (ushort)(channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(34), 16);
        "data"u8.CopyTo(file.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(40), (uint)data);
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(8000 * Math.Sin(2 * Math.PI * hz * i / sampleRate));
            for (var c = 0; c < channels; c++) BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(44 + (i * channels + c) * 2), value);
        }
        return file;
    }

    private static string Name(ReadOnlySpan<byte> id) =>
        string.Concat(id.ToArray().Select(b => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}"));

    private static InvalidDataException Bad(string reason) => new($"not a usable WAV file: {reason}");
}
