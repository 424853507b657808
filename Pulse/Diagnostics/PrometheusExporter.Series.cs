using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Pulse.Diagnostics;

internal sealed partial class PrometheusExporter
{
    /// <summary>One exported metric: its aggregate and how it is written.</summary>
    private abstract class Series(string name, string help)
    {
        public string Name { get; } = name;

        public abstract double Value { get; }

        /// <summary>The series for <paramref name="instrument"/>, or null for a kind this exporter does not write.</summary>
        public static Series? For(Instrument instrument, string name)
        {
            string help = instrument.Description ?? name;
            return instrument switch
            {
                Counter<long> or UpDownCounter<long> => new Total(name, help, TypeOf(instrument)),
                ObservableCounter<long> or ObservableCounter<double> or ObservableGauge<long> or ObservableGauge<double>
                    or ObservableUpDownCounter<long> => new Last(name, help, TypeOf(instrument)),
                Histogram<double> histogram => new Buckets(name, help, histogram.Advice?.HistogramBucketBoundaries ?? DefaultBuckets),
                _ => null,
            };
        }

        public virtual void Record(long value) => Record((double)value);

        public abstract void Record(double value);

        public abstract void Write(StringBuilder text);

        protected void WriteHead(StringBuilder text, string type) =>
            text.Append(CultureInfo.InvariantCulture, $"# HELP {Name} {help}\n# TYPE {Name} {type}\n");

        private static string TypeOf(Instrument instrument) =>
            instrument is Counter<long> or ObservableCounter<long> or ObservableCounter<double> ? "counter" : "gauge";
    }

    // OpenTelemetry's default boundaries, for a histogram that advises none (seconds or milliseconds alike).
    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    /// <summary>A pushed counter or up-down counter: the sum of every measurement (an up-down counter's may fall).</summary>
    private sealed class Total(string name, string help, string type) : Series(name, help)
    {
        private long _sum;

        public override double Value => Volatile.Read(ref _sum);

        public override void Record(long value) => Interlocked.Add(ref _sum, value);

        public override void Record(double value) => Interlocked.Add(ref _sum, (long)value);

        public override void Write(StringBuilder text)
        {
            WriteHead(text, type);
            text.Append(CultureInfo.InvariantCulture, $"{Name} {Volatile.Read(ref _sum)}\n");
        }
    }

    /// <summary>An observable instrument: the value its callback reported at the last collection.</summary>
    private sealed class Last(string name, string help, string type) : Series(name, help)
    {
        private double _value;

        public override double Value => Volatile.Read(ref _value);

        public override void Record(double value) => Volatile.Write(ref _value, value);

        public override void Write(StringBuilder text)
        {
            WriteHead(text, type);
            text.Append(Name).Append(' ');
            AppendNumber(text, Volatile.Read(ref _value));
            text.Append('\n');
        }
    }

    /// <summary>A histogram with fixed upper bounds (<c>le</c>); counts per bucket, lock-free.</summary>
    private sealed class Buckets(string name, string help, IReadOnlyList<double> bounds) : Series(name, help)
    {
        private readonly double[] _bounds = [.. bounds];
        private readonly long[] _counts = new long[bounds.Count + 1];
        private double _sum;

        public override double Value
        {
            get
            {
                long count = 0;
                for (int i = 0; i < _counts.Length; i++)
                {
                    count += Volatile.Read(ref _counts[i]);
                }

                return count;
            }
        }

        public override void Record(double value)
        {
            // A NaN would poison the sum for good (and NaN != NaN would spin the exchange below): not a duration.
            if (double.IsNaN(value))
            {
                return;
            }

            // Prometheus buckets are upper-inclusive: a value equal to a bound counts in that bound's bucket.
            int i = 0;
            while (i < _bounds.Length && value > _bounds[i])
            {
                i++;
            }

            Interlocked.Increment(ref _counts[i]);
            double sum = Volatile.Read(ref _sum);
            // Compared as bits, as the exchange compares: an infinite sum still ends the loop.
            while (Interlocked.CompareExchange(ref _sum, sum + value, sum) is var seen && BitConverter.DoubleToInt64Bits(seen) != BitConverter.DoubleToInt64Bits(sum))
            {
                sum = seen;
            }
        }

        public override void Write(StringBuilder text)
        {
            WriteHead(text, "histogram");
            long cumulative = 0;
            for (int i = 0; i < _bounds.Length; i++)
            {
                cumulative += Volatile.Read(ref _counts[i]);
                text.Append(CultureInfo.InvariantCulture, $"{Name}_bucket{{le=\"{_bounds[i]}\"}} {cumulative}\n");
            }

            cumulative += Volatile.Read(ref _counts[_bounds.Length]);
            text.Append(CultureInfo.InvariantCulture, $"{Name}_bucket{{le=\"+Inf\"}} {cumulative}\n{Name}_sum ");
            AppendNumber(text, Volatile.Read(ref _sum));
            text.Append(CultureInfo.InvariantCulture, $"\n{Name}_count {cumulative}\n");
        }
    }

    private static void AppendNumber(StringBuilder text, double value)
    {
        // The text format's spellings of the special values; every other value in its shortest round-trip form.
        if (double.IsNaN(value))
        {
            text.Append("NaN");
        }
        else if (double.IsInfinity(value))
        {
            text.Append(value > 0 ? "+Inf" : "-Inf");
        }
        else
        {
            text.Append(value.ToString("R", CultureInfo.InvariantCulture));
        }
    }
}
