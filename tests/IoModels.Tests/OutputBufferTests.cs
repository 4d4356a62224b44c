namespace IoModels.Tests;

public sealed class OutputBufferTests
{
    [Fact]
    public void It_holds_at_most_its_capacity_and_wraps_around_preserving_order()
    {
        var statistics = new EchoStatistics();
        using var buffer = new OutputBuffer(10, statistics);
        buffer.Append("abcdefgh"u8);
        Assert.Equal(2, buffer.FreeSpace);
        buffer.Consume(6); // "gh" left, head at 6
        buffer.Append("ijklmnop"u8); // wraps: tail goes past the end
        Assert.True(buffer.IsFull);
        Assert.Equal(0, buffer.GetWriteSpan().Length);

        var drained = new List<byte>();
        while (!buffer.IsEmpty)
        {
            ReadOnlySpan<byte> chunk = buffer.GetReadSpan();
            drained.AddRange(chunk.ToArray());
            buffer.Consume(chunk.Length);
        }

        Assert.Equal("ghijklmnop"u8.ToArray(), drained.ToArray());
        Assert.Equal(0, statistics[EchoCounter.BufferedBytes]);
        Assert.Equal(10, statistics[EchoCounter.PeakBufferedBytes]);
    }

    [Fact]
    public void An_empty_buffer_holds_no_storage()
    {
        using var buffer = new OutputBuffer(64 * 1024);
        Assert.False(buffer.HoldsStorage);
        Span<byte> span = buffer.GetWriteSpan();
        Assert.True(buffer.HoldsStorage);
        "hi"u8.CopyTo(span);
        buffer.Commit(2);
        buffer.Consume(2);
        Assert.False(buffer.HoldsStorage);
        buffer.GetWriteSpan();
        buffer.Commit(0); // a receive that would have blocked
        Assert.False(buffer.HoldsStorage);
    }

    [Fact]
    public void Appending_more_than_the_free_space_is_refused()
    {
        using var buffer = new OutputBuffer(4);
        buffer.Append("abc"u8);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Append("de"u8));
        Assert.Equal(3, buffer.Count);
    }

    [Fact]
    public void Dispose_returns_queued_bytes_to_the_statistics()
    {
        var statistics = new EchoStatistics();
        var buffer = new OutputBuffer(8, statistics);
        buffer.Append("12345"u8);
        buffer.Dispose();
        Assert.Equal(0, statistics[EchoCounter.BufferedBytes]);
        Assert.False(buffer.HoldsStorage);
    }
}
