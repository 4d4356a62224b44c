using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace IoModels.Tests.Classroom;

/// <summary>The tracer engines call for <c>serve --trace</c>: the first steps narrated, the rest summarised, nothing when off.</summary>
public sealed class TraceAggregatorTests
{
    [Fact]
    public void The_first_events_of_a_kind_are_narrated_and_the_rest_summarised_on_flush()
    {
        var sink = new CollectingSink();
        using Logger log = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(sink).CreateLogger();
        using var trace = new TraceAggregator(log, "select", interval: TimeSpan.FromHours(1)); // flushed by hand below
        Assert.True(trace.Enabled);

        for (int i = 0; i < 10; i++)
        {
            trace.Record(TraceEvent.SelectReturned, a: 1000, b: i % 2);
        }

        trace.Record(TraceEvent.ReceiveWaiting, connection: 42);
        string[] steps = sink.Messages();
        Assert.Equal(TraceAggregator.DetailedPerInterval + 1, steps.Length);
        Assert.Contains("select on 1000 sockets returned 0 ready", steps[0], StringComparison.Ordinal);
        Assert.Contains("client #42", steps[^1], StringComparison.Ordinal);

        trace.Flush();
        string summary = Assert.Single(sink.Messages().Skip(steps.Length));
        Assert.Contains("10 select calls", summary, StringComparison.Ordinal);
        Assert.Contains("1000 sockets passed per call", summary, StringComparison.Ordinal);
        Assert.Contains("0.5 ready per call", summary, StringComparison.Ordinal);

        // A new interval narrates again from the start, and an empty interval says nothing.
        trace.Flush();
        trace.Record(TraceEvent.SelectReturned, a: 7, b: 1);
        Assert.Contains("select on 7 sockets returned 1 ready", sink.Messages()[^1], StringComparison.Ordinal);
        Assert.All(sink.Events(), e => Assert.Equal(LogEventLevel.Debug, e.Level));
    }

    [Fact]
    public void With_debug_logging_off_nothing_is_recorded_or_written()
    {
        var sink = new CollectingSink();
        using Logger log = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(sink).CreateLogger();
        using var trace = new TraceAggregator(log, "blocking");
        Assert.False(trace.Enabled);
        for (int i = 0; i < 100; i++)
        {
            trace.Record(TraceEvent.ReceiveWaiting, connection: i);
        }

        trace.Flush();
        Assert.Empty(sink.Events());
    }

    [Fact]
    public void Dispose_writes_the_last_summary_once()
    {
        var sink = new CollectingSink();
        using Logger log = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(sink).CreateLogger();
        var trace = new TraceAggregator(log, "async", interval: TimeSpan.FromHours(1));
        for (int i = 0; i < 5; i++)
        {
            trace.Record(TraceEvent.CompletionArrived, connection: i, a: 100);
        }

        trace.Dispose();
        trace.Dispose();
        Assert.Contains("5 completions arrived, 500 bytes", sink.Messages()[^1], StringComparison.Ordinal);
        Assert.Equal(TraceAggregator.DetailedPerInterval + 1, sink.Messages().Length);
    }

    private sealed class CollectingSink : ILogEventSink
    {
        private readonly List<LogEvent> _events = [];

        public void Emit(LogEvent logEvent)
        {
            lock (_events)
            {
                _events.Add(logEvent);
            }
        }

        public LogEvent[] Events()
        {
            lock (_events)
            {
                return [.. _events];
            }
        }

        public string[] Messages() => [.. Events().Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture))];
    }
}
