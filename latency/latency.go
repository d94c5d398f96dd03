// Package latency summarises per-request durations the one way convdesk's
// benchmarks and its load tool report them: the median and the 99th
// percentile by nearest rank, and the maximum, never the mean. Keeping the
// definition in one place means a p99 from a benchmark and one from the load
// tool can be set side by side.
package latency

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th quantile (0 < p ≤ 1) of sorted by nearest
// rank: the smallest duration that at least p of the durations do not
// exceed. sorted must be in ascending order; an empty slice gives 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Summary is what a run of requests is reported as.
type Summary struct {
	N             int
	P50, P99, Max time.Duration
}

// Summarize sorts d in place and returns its summary.
func Summarize(d []time.Duration) Summary {
	slices.Sort(d)
	s := Summary{N: len(d), P50: Percentile(d, 0.50), P99: Percentile(d, 0.99)}
	if len(d) > 0 {
		s.Max = d[len(d)-1]
	}
	return s
}

// Ms is d in milliseconds, the unit every report uses.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MetricReporter is what a benchmark reports its metrics to (*testing.B).
type MetricReporter interface {
	ReportMetric(n float64, unit string)
}

// Report reports s to b as p50-ms, p99-ms and max-ms.
func (s Summary) Report(b MetricReporter) {
	b.ReportMetric(Ms(s.P50), "p50-ms")
	b.ReportMetric(Ms(s.P99), "p99-ms")
	b.ReportMetric(Ms(s.Max), "max-ms")
}
