package db

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
)

// queryBase is when the test trail's generated part ends.
var queryBase = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// queryFixture is a trail of generated events (enough for several export
// chunks) followed by hand-made ones: a run with one timestamp, a clock that
// steps back within clockSlack, and text that needs escaping.
type queryFixture struct {
	d   *DB
	all []refEvent // every event, newest first
}

// refEvent is an event with what a brute-force match needs.
type refEvent struct {
	convdesk.AuditEvent
	groupsJSON, convsJSON string
	terms                 map[string]bool
}

func mustQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	d := mustOpen(t)
	ctx := context.Background()
	if err := d.GenerateAuditEvents(ctx, 3*exportChunkIDs+500, queryBase, 42, nil); err != nil {
		t.Fatal(err)
	}
	appendAt := func(at time.Time, n int, subject string, groups ...string) {
		d.Now = func() time.Time { return at }
		for i := 0; i < n; i++ {
			a := convdesk.Attribution{Actor: convdesk.Actor{StaffID: 9, Name: "eve.agent", Role: convdesk.RoleAgent}, Ticket: "TCK-EQ"}
			e := convdesk.NewAuditEvent(a, convdesk.ActionConversationAdd, subject)
			e.GroupNames = groups
			e.ConversationIDs = []convdesk.ConversationID{convdesk.ConversationID("c2c_" + subject)}
			if i%3 == 0 {
				e.Outcome = convdesk.OutcomePartial
			}
			if err := d.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendAt(queryBase.Add(2*time.Hour), 23, "eve", "产品体验")                            // equal timestamps
	appendAt(queryBase.Add(90*time.Minute), 10, "eve", "Work")                         // the clock stepped back 30 minutes
	appendAt(queryBase.Add(130*time.Minute), 10, "frank", `say "hi", 100% off_now\ok`) // LIKE's wildcards and JSON escapes
	appendAt(queryBase.Add(131*time.Minute), 3, "frank", "Homework", "work-life")

	f := &queryFixture{d: d}
	rows, err := d.ro.Query(`SELECT ` + eventColumns + ` FROM audit_events ORDER BY id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r eventRow
		if err := scanEventRow(rows, &r); err != nil {
			t.Fatal(err)
		}
		e, err := r.event()
		if err != nil {
			t.Fatal(err)
		}
		terms := map[string]bool{}
		for _, term := range eventTerms(&e) {
			terms[term] = true
		}
		f.all = append(f.all, refEvent{e, r.GroupNames, r.ConversationIDs, terms})
	}
	return f
}

// likeContains is SQLite's LIKE '%sub%': case-insensitive for ASCII only.
func likeContains(s, sub string) bool {
	lower := func(x string) string {
		b := []byte(x)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	return strings.Contains(lower(s), lower(sub))
}

// refMatch is the meaning of a query, checked event by event.
func refMatch(q convdesk.AuditQuery, e refEvent) bool {
	switch {
	case q.SubjectUser != "" && e.SubjectUser != q.SubjectUser,
		q.Actor != "" && e.ActorName != q.Actor,
		len(q.Actions) > 0 && !slices.Contains(q.Actions, e.Action),
		q.Outcome != "" && e.Outcome != q.Outcome,
		q.Ticket != "" && e.Ticket != q.Ticket,
		!q.After.IsZero() && e.Time.Before(q.After),
		!q.Before.IsZero() && !e.Time.Before(q.Before):
		return false
	}
	if q.Text != "" {
		for _, term := range termsOf(q.Text) {
			if !e.terms[term] {
				return false
			}
		}
		text := jsonEscaped(q.Text)
		return likeContains(e.groupsJSON, text) || likeContains(e.convsJSON, text)
	}
	return true
}

func (f *queryFixture) want(q convdesk.AuditQuery) []int64 {
	var ids []int64
	for _, e := range f.all {
		if refMatch(q, e) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func ids(evs []convdesk.AuditEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// auditTestQueries are the filters checked against a brute-force scan: each
// one alone, combinations, and combinations whose filters disagree.
func auditTestQueries(t *testing.T, f *queryFixture) map[string]convdesk.AuditQuery {
	t.Helper()
	// A ticket, a rare subject and a conversation that the trail holds.
	var ticket, rareUser, rareConv string
	for _, e := range f.all[len(f.all)/2:] {
		if rareConv == "" && len(e.ConversationIDs) > 0 && strings.HasPrefix(string(e.ConversationIDs[0]), "c2c_user") {
			rareConv = strings.TrimPrefix(string(e.ConversationIDs[0]), "c2c_")
		}
		if ticket == "" && strings.HasPrefix(e.Ticket, "TCK-") && e.Ticket != "TCK-EQ" {
			ticket = e.Ticket
		}
		if rareUser == "" && strings.HasPrefix(e.SubjectUser, "user0") {
			rareUser = e.SubjectUser
		}
	}
	out := map[string]convdesk.AuditQuery{}
	for _, text := range []string{
		"", "actor:auditor", "actor:eve.agent", "user:alice", "user:" + rareUser, "user:nobody",
		"action:board.view", "action:conversation.add", "action:staff.role", "action:edits", "action:reads", "action:audit",
		"outcome:failed", "outcome:partial", "outcome:ok", "ticket:" + ticket, "ticket:TCK-EQ",
		"after:2026-09-01 before:2026-09-15", "after:2026-11-20", "before:2026-06-15", "after:2026-11-24 before:2026-11-25",
		"产品", "产品体验", "品体", "客户", "家人", "家", "work", "Work", "WORK", "c2c", "follow up", "up follow", "zzzz", "#",
		"user:alice action:edits outcome:failed", "actor:auditor action:edits after:2026-08-01 before:2026-10-01",
		"action:board.view outcome:partial", "action:reads outcome:failed", "actor:auditor outcome:partial",
		"产品 outcome:partial", "user:alice 产品", "c2c " + rareConv, "actor:li.wei user:alice action:edits",
		"ticket:" + ticket + " 产品", "user:eve ticket:TCK-EQ action:conversation.add", "work action:edits",
	} {
		af, err := convdesk.ParseAuditFilter(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		out[text] = af.Query(time.UTC)
	}
	// Times across the clock's step back, and text that needs escaping.
	out["after 1h45m"] = convdesk.AuditQuery{After: queryBase.Add(105 * time.Minute)}
	out["before 1h45m"] = convdesk.AuditQuery{Before: queryBase.Add(105 * time.Minute)}
	out["between 1h and 2h"] = convdesk.AuditQuery{After: queryBase.Add(time.Hour), Before: queryBase.Add(2 * time.Hour)}
	out["at 2h exactly"] = convdesk.AuditQuery{After: queryBase.Add(2 * time.Hour), Before: queryBase.Add(2*time.Hour + time.Microsecond)}
	out[`text say "hi"`] = convdesk.AuditQuery{Text: `say "hi"`}
	out["text 100%"] = convdesk.AuditQuery{Text: "100%"}
	out["text off_now"] = convdesk.AuditQuery{Text: "off_now"}
	out[`text now\ok`] = convdesk.AuditQuery{Text: `now\ok`}
	out["text %"] = convdesk.AuditQuery{Text: "%"}
	return out
}

func TestQueryMatchesBruteForce(t *testing.T) {
	f := mustQueryFixture(t)
	ctx := context.Background()
	for name, q := range auditTestQueries(t, f) {
		t.Run(name, func(t *testing.T) {
			want := f.want(q)

			t.Run("FirstPage", func(t *testing.T) {
				q := q
				q.Limit = 50
				got, err := f.d.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if w := want[:min(50, len(want))]; !slices.Equal(ids(got), w) {
					t.Fatalf("got %v, want %v", ids(got), w)
				}
			})
			t.Run("KeysetPages", func(t *testing.T) {
				// Older pages by BeforeID: every event once, in order.
				var pages [][]int64
				var seen []int64
				q := q
				q.Limit = 37
				for {
					got, err := f.d.Query(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) == 0 {
						break
					}
					pages = append(pages, ids(got))
					seen = append(seen, ids(got)...)
					q.BeforeID = got[len(got)-1].ID
					if len(pages) > len(f.all) {
						t.Fatal("paging does not end")
					}
				}
				if !slices.Equal(seen, want) {
					t.Fatalf("pages hold %d events, want %d (%v...)", len(seen), len(want), seen[:min(10, len(seen))])
				}
				// Newer pages by AfterID give the same pages back.
				for k := len(pages) - 1; k > 0; k-- {
					back := q
					back.BeforeID, back.AfterID = 0, pages[k][0]
					got, err := f.d.Query(ctx, back)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(ids(got), pages[k-1]) {
						t.Fatalf("newer than %d: got %v, want %v", pages[k][0], ids(got), pages[k-1])
					}
				}
			})
			t.Run("Export", func(t *testing.T) {
				var got []int64
				err := f.d.ExportEvents(ctx, q, func(e *convdesk.AuditEvent) error {
					got = append(got, e.ID)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("ExportEvents: %d events, want %d", len(got), len(want))
				}
				var out bytes.Buffer
				n, err := f.d.ExportTo(ctx, q, &out, auditexport.CSV)
				if err != nil {
					t.Fatal(err)
				}
				recs, err := csv.NewReader(&out).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				got = got[:0]
				for _, r := range recs[1:] {
					id, _ := strconv.ParseInt(r[0], 10, 64)
					got = append(got, id)
				}
				if n != int64(len(want)) || !slices.Equal(got, want) {
					t.Fatalf("ExportTo: %d rows, %d parsed, want %d", n, len(got), len(want))
				}
			})
		})
	}
}

// TestQueryPlans checks that every search walks an index in id order: no
// sort of all matching events (a temporary B-tree), no full-table scan
// unless nothing narrows the search, and never OFFSET.
func TestQueryPlans(t *testing.T) {
	f := mustQueryFixture(t)
	ctx := context.Background()
	for name, q := range auditTestQueries(t, f) {
		for _, deep := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deep=%v", name, deep), func(t *testing.T) {
				if deep {
					q.BeforeID = f.all[len(f.all)/2].ID
				}
				plan, err := f.d.planAuditQuery(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if plan.none {
					return
				}
				query, args := buildAuditQuery(q, plan, 50)
				if strings.Contains(strings.ToUpper(query), "OFFSET") {
					t.Fatal("the query uses OFFSET")
				}
				rows, err := f.d.ro.Query(`EXPLAIN QUERY PLAN `+query, args...)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var steps []string
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						t.Fatal(err)
					}
					steps = append(steps, detail)
				}
				text := strings.Join(steps, "\n")
				merged := (plan.driver == driveAction || plan.driver == driveOutcomeAction) && len(q.Actions) > 1
				switch {
				case merged && strings.Contains(text, "SCAN audit_events"):
					t.Errorf("a walk per action scans the table:\n%s", text)
				case !merged && strings.Contains(text, "TEMP B-TREE"):
					t.Errorf("the query sorts its matches:\n%s", text)
				case plan.driver != driveScan && strings.Contains(text, "SCAN audit_events"):
					t.Errorf("the query scans the table:\n%s", text)
				}
				if merged {
					// Each walk sorts at most its own page: fine.
					index := "audit_page_by_action"
					if plan.driver == driveOutcomeAction {
						index = "audit_by_outcome_action"
					}
					if n := strings.Count(text, "USING COVERING INDEX "+index); n != len(q.Actions) {
						t.Errorf("%d covering walks of %s for %d actions:\n%s", n, index, len(q.Actions), text)
					}
				}
				if plan.driver == driveOutcomeAction && !strings.Contains(text, "audit_by_outcome_action (outcome=? AND action=?") {
					t.Errorf("an outcome and action search does not seek on both:\n%s", text)
				}
			})
		}
	}
}

func TestPlanPicksTheSparserPath(t *testing.T) {
	f := mustQueryFixture(t)
	ctx := context.Background()
	cases := []struct {
		query string
		want  int
	}{
		{"action:board.view outcome:partial", driveOutcomeAction},
		{"user:eve outcome:ok", driveSubject},
		{"action:board.view user:alice", driveSubject},
		{"actor:auditor", driveActor},
		{"ticket:TCK-EQ user:alice", driveTicket},
		{"after:2026-09-01", driveScan},
	}
	for _, c := range cases {
		af, _ := convdesk.ParseAuditFilter(c.query)
		plan, err := f.d.planAuditQuery(ctx, af.Query(time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if plan.driver != c.want {
			t.Errorf("%s: walks %d, want %d", c.query, plan.driver, c.want)
		}
	}
	t.Run("RarestTermFirst", func(t *testing.T) {
		plan, err := f.d.planAuditQuery(ctx, convdesk.AuditQuery{Text: "c2c 产品体验"})
		if err != nil {
			t.Fatal(err)
		}
		if plan.terms[len(plan.terms)-1] != "c2c" {
			t.Errorf("terms %q: the common c2c should come last", plan.terms)
		}
	})
	t.Run("AbsentTerm", func(t *testing.T) {
		plan, err := f.d.planAuditQuery(ctx, convdesk.AuditQuery{Text: "产品 zzzz"})
		if err != nil || !plan.none {
			t.Errorf("plan %+v, %v: a term in no event should match nothing at once", plan, err)
		}
	})
}

func TestQueryEqualTimestampsPageWithoutGaps(t *testing.T) {
	d := mustOpen(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return at }
	appendN(t, d, 23, "alice")
	var seen []int64
	q := convdesk.AuditQuery{After: at, Before: at.Add(time.Microsecond), Limit: 4}
	for len(seen) < 100 {
		evs, err := d.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		seen = append(seen, ids(evs)...)
		q.BeforeID = evs[len(evs)-1].ID
	}
	want := make([]int64, 23)
	for i := range want {
		want[i] = int64(23 - i)
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("got %v, want %v", seen, want)
	}
}
