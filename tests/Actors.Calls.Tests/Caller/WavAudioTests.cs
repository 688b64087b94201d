using System.Buffers.Binary;
using Actors.Calls.Caller;
using Xunit;

namespace Actors.Calls.Tests.Caller;

public sealed class WavAudioTests
{
    private static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(20);

    [Theory]
    [InlineData(8000, 1, 320)]
    [InlineData(16000, 1, 640)]
    [InlineData(44100, 2, 3528)]
    [InlineData(48000, 2, 3840)]
    public void Generated_WAV_is_cut_into_20_ms_frames(int rate, int channels, int frameBytes)
    {
        var file = WavAudio.Generate(rate, channels, TimeSpan.FromSeconds(1.01));
        var audio = WavAudio.Parse(file);
        Assert.Equal(rate, audio.SampleRate);
        Assert.Equal(channels, audio.Channels);
        Assert.Equal(file.AsSpan(44).ToArray(), audio.Pcm);
        var frames = WavAudio.Parse(file).Frames(Frame);
        Assert.Equal(51, frames.Count); // 1.01 s: 50 whole frames and a half one, padded with silence
        Assert.All(frames, f => Assert.Equal(frameBytes, f.Length));
        Assert.Equal(audio.Pcm.AsSpan(0, frameBytes).ToArray(), frames[0]);
        Assert.All(frames[^1][(audio.Pcm.Length - 50 * frameBytes)..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Chunks_before_the_data_are_skipped_including_odd_sized_ones()
    {
        var plain = WavAudio.Generate(16000, 1, TimeSpan.FromMilliseconds(100));
        // RIFF header + fmt chunk, then a 3-byte LIST chunk (padded to 4), then the data chunk.
        var list = new byte[] { (byte)'L', (byte)'I', (byte)'S', (byte)'T', 3, 0, 0, 0, 1, 2, 3, 0 };
        var file = plain[..36].Concat(list).Concat(plain[36..]).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)(file.Length - 8));
        Assert.Equal(plain[44..], WavAudio.Parse(file).Pcm);
    }

    [Fact]
    public void Truncated_WAV_is_refused_at_every_cut()
    {
        var file = WavAudio.Generate(16000, 1, TimeSpan.FromMilliseconds(50));
        for (var length = 0; length < file.Length; length++)
        {
            var error = Assert.Throws<InvalidDataException>(() => WavAudio.Parse(file.AsSpan(0, length)));
            Assert.StartsWith("not a usable WAV file", error.Message);
        }
        var cut = Assert.Throws<InvalidDataException>(() => WavAudio.Parse(file.AsSpan(0, file.Length - 100)));
        Assert.Contains("truncated", cut.Message);
    }

    public static TheoryData<string, Action<byte[]>, string> BadHeaders => new()
    {
        { "not RIFF", f => f[0] = (byte)'X', "not a RIFF/WAVE file" },
        { "not WAVE", f => f[8] = (byte)'A', "not a RIFF/WAVE file" },
        { "float", f => f[20] = 3, "only PCM" },
        { "8-bit", f => f[34] = 8, "only 16-bit" },
        { "3 channels", f => f[22] = 3, "only mono or stereo" },
        { "96 kHz", f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(24), 96000), "sample rate 96000" },
        { "byte rate", f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(28), 1), "inconsistent" },
        { "short fmt", f => f[16] = 14, "at least 16" },
        { "no fmt chunk", f => f[12] = (byte)'x', "no 'fmt ' chunk before 'data'" },
        { "odd data", f => { BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(40), 7); BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), 36 + 7); }, "whole number" },
        { "empty data", f => { BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(40), 0); BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), 36); }, "no samples" },
        { "RIFF size too large", f => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), uint.MaxValue), "truncated" },
        { "no data chunk", f => f[36] = (byte)'D', "no 'data' chunk" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Bad_header_is_refused_with_the_reason(string what, Action<byte[]> corrupt, string reason)
    {
        var file = WavAudio.Generate(16000, 1, TimeSpan.FromMilliseconds(40));
        corrupt(file);
        var error = Assert.Throws<InvalidDataException>(() => WavAudio.Parse(file));
        Assert.True(error.Message.Contains(reason), $"{what}: {error.Message}");
    }

    [Fact]
    public void Oversized_file_is_refused_before_it_is_read()
    {
        var path = Path.Combine(Path.GetTempPath(), $"calls-huge-{Guid.NewGuid():N}.wav");
        try
        {
            using (var stream = File.Create(path)) stream.SetLength(WavAudio.MaxFileBytes + 1L); // sparse
            var error = Assert.Throws<InvalidDataException>(() => WavAudio.Load(path));
            Assert.Contains("limit", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
