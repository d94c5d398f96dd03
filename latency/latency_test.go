package latency

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		d := make([]time.Duration, len(n))
		for i, x := range n {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		name string
		d    []time.Duration
		p    float64
		want time.Duration
	}{
		{"Empty", nil, 0.5, 0},
		{"One", ms(7), 0.99, 7 * time.Millisecond},
		{"MedianOdd", ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		// Nearest rank: the median of an even count is the lower middle.
		{"MedianEven", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"P99Of100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"P50Of100", ms(hundred...), 0.50, 50 * time.Millisecond},
		// Below 100 samples the 99th percentile is the maximum.
		{"P99Of50", ms(hundred[:50]...), 0.99, 50 * time.Millisecond},
		{"P100", ms(1, 2, 3), 1, 3 * time.Millisecond},
		{"TinyP", ms(1, 2, 3), 0.0001, time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Percentile(c.d, c.p); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3}
	s := Summarize(d)
	if s != (Summary{N: 5, P50: 3, P99: 5, Max: 5}) {
		t.Errorf("got %+v", s)
	}
	if d[0] != 1 || d[4] != 5 {
		t.Errorf("not sorted in place: %v", d)
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("empty summary not zero")
	}
}
