package witness

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// chain returns n signed checkpoints, one a day apart from start.
func chain(n int, start time.Time, step time.Duration) []convdesk.Checkpoint {
	var out []convdesk.Checkpoint
	prev := ""
	for i := 1; i <= n; i++ {
		cp := convdesk.Checkpoint{ID: int64(i), EventID: int64(10 * i), EventHash: strings.Repeat("ab", 32),
			At: start.Add(time.Duration(i) * step).UTC().Truncate(time.Microsecond), PrevMAC: prev}
		cp.MAC = cp.ComputeMAC(key)
		prev = cp.MAC
		out = append(out, cp)
	}
	return out
}

func appendAll(t *testing.T, w *File, cps []convdesk.Checkpoint) {
	t.Helper()
	unlock, err := w.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, cp := range cps {
		if err := w.Append(cp); err != nil {
			t.Fatal(err)
		}
	}
}

func readAll(t *testing.T, w *File) ([]convdesk.Checkpoint, []string) {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []convdesk.Checkpoint
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, r.Skipped()
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Checkpoint)
	}
}

func TestLineRoundTrip(t *testing.T) {
	for _, cp := range chain(2, time.Date(2026, 11, 1, 9, 0, 0, 123456000, time.UTC), time.Second) {
		line := FormatLine(cp)
		if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
			t.Fatalf("line %q", line)
		}
		got, err := ParseLine(strings.TrimSuffix(line, "\n"))
		if err != nil || got != cp {
			t.Fatalf("round trip: %+v %v, want %+v", got, err, cp)
		}
	}
	for _, bad := range []string{"", "v1 1 2", "v2 1 2 " + strings.Repeat("a", 64) + " 2026-11-01T09:00:00.000000Z - " + strings.Repeat("a", 64),
		"v1 1 2 " + strings.Repeat("a", 64) + " 2026-11-01T09:00:00Z - " + strings.Repeat("a", 64)} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestAppendRotatesDaily(t *testing.T) {
	w := New(filepath.Join(t.TempDir(), "audit.witness"))
	cps := chain(5, time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), 9*time.Hour)
	appendAll(t, w, cps)
	files, err := w.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{w.Path() + ".2026-11-01", w.Path() + ".2026-11-02", w.Path() + ".2026-11-03"}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Fatalf("files %v, want %v", files, want)
	}
	// The first line of a day's file carries the previous file's last MAC.
	b, _ := os.ReadFile(files[1])
	first, err := ParseLine(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil || first.PrevMAC != cps[first.ID-2].MAC {
		t.Fatalf("first line of %s: %+v %v", files[1], first, err)
	}
	got, skipped := readAll(t, w)
	if len(got) != 5 || len(skipped) != 0 {
		t.Fatalf("read %d lines, skipped %v", len(got), skipped)
	}
	for i := range got {
		if got[i] != cps[i] {
			t.Fatalf("line %d: %+v, want %+v", i, got[i], cps[i])
		}
	}
	tail, err := w.Last()
	if err != nil || !tail.Found || tail.Last != cps[4] || tail.File != files[2] {
		t.Fatalf("tail %+v %v", tail, err)
	}
	t.Run("ClockBackStaysInNewestFile", func(t *testing.T) {
		back := chain(6, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Hour)[5]
		appendAll(t, w, []convdesk.Checkpoint{back})
		if files, _ := w.Files(); len(files) != 3 {
			t.Fatalf("files %v", files)
		}
	})
}

func TestTornLastLine(t *testing.T) {
	w := New(filepath.Join(t.TempDir(), "audit.witness"))
	cps := chain(3, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), time.Second)
	appendAll(t, w, cps[:2])
	files, _ := w.Files()
	// A crash mid-write leaves the start of a line.
	f, err := os.OpenFile(files[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(FormatLine(cps[2])[:40])
	f.Close()

	tail, err := w.Last()
	if err != nil || !tail.Found || tail.Last != cps[1] || !strings.Contains(tail.Ignored, "torn") {
		t.Fatalf("tail %+v %v", tail, err)
	}
	// The next line stands on its own line, and readers skip the fragment.
	appendAll(t, w, cps[2:])
	got, skipped := readAll(t, w)
	if len(got) != 3 || got[2] != cps[2] || len(skipped) != 1 || !strings.Contains(skipped[0], "unreadable") {
		t.Fatalf("got %d lines, skipped %v", len(got), skipped)
	}
	if tail, _ := w.Last(); tail.Last != cps[2] || tail.Ignored != "" {
		t.Fatalf("tail %+v", tail)
	}
}

func TestLastOfMissingWitness(t *testing.T) {
	w := New(filepath.Join(t.TempDir(), "none", "audit.witness"))
	tail, err := w.Last()
	if err != nil || tail.Exists || tail.Found {
		t.Fatalf("tail %+v %v", tail, err)
	}
}
