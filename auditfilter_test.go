package convdesk_test

import (
	"slices"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

func TestParseAuditFilter(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		q := `actor:agent user:alice action:group.rename outcome:failed after:2026-11-01 before:2026-11-25 ticket:TCK-12 产品`
		f, err := convdesk.ParseAuditFilter(q)
		if err != nil {
			t.Fatal(err)
		}
		want := convdesk.AuditFilter{Actor: "agent", User: "alice", Action: "group.rename", Outcome: convdesk.OutcomeFailed,
			After: "2026-11-01", Before: "2026-11-25", Ticket: "TCK-12", Text: "产品"}
		if f != want {
			t.Fatalf("got %+v, want %+v", f, want)
		}
		if got := f.String(); got != q {
			t.Fatalf("round trip: got %q, want %q", got, q)
		}
	})
	t.Run("QuotedValuesRoundTrip", func(t *testing.T) {
		f := convdesk.AuditFilter{Ticket: "VIP 客户", Text: `needs:colon plain`}
		back, err := convdesk.ParseAuditFilter(f.String())
		if err != nil || back != f {
			t.Fatalf("got %+v, %v from %q", back, err, f.String())
		}
	})
	// User IDs are any printable ASCII: the query writes them quoted when
	// they would not read back as one word, and reads them back exactly.
	t.Run("UserIDsRoundTrip", func(t *testing.T) {
		for _, id := range []string{"a b", "a/b", "100%", "what?", "a#b", "it's", `say "hi"`, `back\slash`, `end\`, `"`, "a:b", " lead"} {
			f := convdesk.AuditFilter{User: id, Text: "x"}
			q := f.String()
			back, err := convdesk.ParseAuditFilter(q)
			if err != nil || back != f {
				t.Errorf("%q: wrote %q, read back %+v, %v", id, q, back, err)
			}
		}
		if got := (convdesk.AuditFilter{User: "a b"}).String(); got != `user:"a b"` {
			t.Errorf("got %q, want user:\"a b\"", got)
		}
		if got := (convdesk.AuditFilter{User: `say "hi"`}).String(); got != `user:"say \"hi\""` {
			t.Errorf("got %q", got)
		}
	})
	t.Run("ActionGroup", func(t *testing.T) {
		f, err := convdesk.ParseAuditFilter("action:edits")
		if err != nil {
			t.Fatal(err)
		}
		// The six edits and the changes found made outside convdesk.
		if q := f.Query(time.UTC); len(q.Actions) != 7 || !slices.Contains(q.Actions, convdesk.ActionGroupObserved) {
			t.Fatalf("got %v", q.Actions)
		}
	})
	t.Run("DatesInTimeZone", func(t *testing.T) {
		f, _ := convdesk.ParseAuditFilter("after:2026-11-01 before:2026-11-02")
		sh, _ := time.LoadLocation("Asia/Shanghai")
		q := f.Query(sh)
		if want := time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC); !q.After.Equal(want) {
			t.Fatalf("after = %v, want %v", q.After, want)
		}
		if want := time.Date(2026, 11, 1, 16, 0, 0, 0, time.UTC); !q.Before.Equal(want) {
			t.Fatalf("before = %v, want %v", q.Before, want)
		}
	})
	for _, bad := range []string{
		"after:yesterday", "action:group.explode", "outcome:great", `ticket:"open`, "actor:a actor:b", "user:",
		string([]byte{0xff}),
	} {
		t.Run("Err "+bad, func(t *testing.T) {
			_, err := convdesk.ParseAuditFilter(bad)
			if convdesk.KindOf(err) != convdesk.EInvalid || convdesk.MessageOf(err) == "" {
				t.Fatalf("got %v, want a clear invalid error", err)
			}
		})
	}
}

func FuzzParseAuditFilter(f *testing.F) {
	f.Add(`actor:agent user:alice 产品 "a b"`)
	f.Add(`ticket:"x:y" after:2026-01-01`)
	f.Fuzz(func(t *testing.T, q string) {
		flt, err := convdesk.ParseAuditFilter(q)
		if err != nil {
			return
		}
		back, err := convdesk.ParseAuditFilter(flt.String())
		if err != nil {
			t.Fatalf("%q → %q does not parse: %v", q, flt.String(), err)
		}
		if back.String() != flt.String() {
			t.Fatalf("not stable: %q vs %q", back.String(), flt.String())
		}
	})
}
