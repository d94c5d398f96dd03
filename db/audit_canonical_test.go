package db

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// The fast path hashes exactly what the domain hashes, for generated events
// of every kind and for hostile strings.
func TestCanonicalFromRowMatchesDomain(t *testing.T) {
	gen := auditGenerator{rng: rand.New(rand.NewPCG(3, 4))}
	events := []*convdesk.AuditEvent{}
	for i := 0; i < 3000; i++ {
		events = append(events, gen.event())
	}
	odd := convdesk.NewAuditEvent(convdesk.Attribution{
		Actor:     convdesk.Actor{Name: "<script>&\"\\", Role: convdesk.RoleAgent},
		UserAgent: "tab\tnew\nline\u2028sep\u2029\x01\x7f", Ticket: string([]byte{0xff, 'x'}),
	}, convdesk.ActionGroupRename, "产品")
	odd.GroupNames = []string{"⭐ 重要客户", "Work "}
	odd.Detail = map[string]string{"z": "1", "a": "<b>"}
	odd.Before = []convdesk.GroupState{{ID: "3", Name: "a&b", Exists: true, Conversations: []convdesk.ConversationID{"c2c_x"}}}
	events = append(events, odd, &convdesk.AuditEvent{Action: convdesk.ActionAuthLogin, Outcome: convdesk.OutcomeOK})
	for i, e := range events {
		e.ID = int64(i + 1)
		e.Time = time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC)
		e.PrevHash = "ab"
		r := rowFromEvent(e)
		got := canonicalFromRow(nil, &r)
		want := e.CanonicalBytes()
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func BenchmarkVerifyChain(b *testing.B) {
	d := mustOpen(b)
	d.SetAuditKey(testKey)
	if err := d.GenerateAuditEvents(context.Background(), 20000, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 1, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := d.Verify(context.Background(), nil)
		if err != nil || !rep.OK {
			b.Fatal(rep, err)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "events/s")
}

// A long trail is verified in parallel segments; a break in the second
// segment is still found and named, and progress reaches the total.
func TestVerifySegments(t *testing.T) {
	ctx := context.Background()
	d := mustOpen(t)
	d.SetAuditKey(testKey)
	if err := d.GenerateAuditEvents(ctx, 2*verifySegmentMin+2, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 1, nil); err != nil {
		t.Fatal(err)
	}
	var last int64
	rep, err := d.Verify(ctx, func(checked, total int64) { last = checked })
	if err != nil || !rep.OK || rep.Events != 2*verifySegmentMin+2 || last != rep.Events || rep.UncheckpointedEvents != 0 {
		t.Fatalf("intact: %+v %v (progress %d)", rep, err, last)
	}
	for _, tc := range []struct {
		stmt  string
		event int64
		words string
	}{
		{`UPDATE audit_events SET ticket = 'x' WHERE id = 15000`, 15000, "altered"},
		{`DELETE FROM audit_events WHERE id = 10002`, 10002, "missing"},
		{`UPDATE audit_events SET actor_name = 'y' WHERE id = 3`, 3, "altered"},
	} {
		d := mustOpen(t)
		d.SetAuditKey(testKey)
		d.GenerateAuditEvents(ctx, 2*verifySegmentMin+2, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 1, nil)
		tamper(t, d, tc.stmt)
		rep, err := d.Verify(ctx, nil)
		if err != nil || rep.OK || rep.BrokenEventID != tc.event || !strings.Contains(rep.Problem, tc.words) {
			t.Fatalf("%s: got %+v %v", tc.stmt, rep, err)
		}
	}
}
