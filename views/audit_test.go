package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

const auditHostile = `<img src=x onerror=alert(1)>`

func auditRow(id int64, outcome string) AuditRowVM {
	return AuditRowVM{
		ID: id, URL: "/audit/events/" + strings.Repeat("1", int(id)),
		Time:  AuditTimeVM{Local: "2026-11-20 17:00:00", UTC: "2026-11-20 09:00:00.000000Z", ISO: "2026-11-20T09:00:00Z"},
		Actor: "agent", ActorRole: "agent", RoleLabel: "Agent",
		Action: "group.rename", ActionLabel: "Rename group", Subject: "alice",
		Summary: "“" + auditHostile + "” → “B”", Outcome: AuditOutcomeVM{Key: outcome, Label: strings.ToUpper(outcome)},
		Ticket: auditHostile,
	}
}

func auditPageVM() AuditPageVM {
	return AuditPageVM{
		Layout: testLayout(),
		Filter: AuditFilterVM{URL: "/audit", Q: "user:alice", User: "alice", TimeZone: "Asia/Shanghai",
			ActionKinds:      []AuditOptionVM{{Value: "edits", Label: "All edits", Selected: true}},
			ActionCategories: []AuditOptionGroupVM{{Label: "Edits", Options: []AuditOptionVM{{Value: "group.rename", Label: "Rename group"}}}},
			Outcomes:         []AuditOptionVM{{Value: "ok", Label: "OK"}},
		},
		Results: AuditResultsVM{
			URL: "/audit", Q: "user:alice",
			Rows: []AuditRowVM{
				auditRow(5, "ok"), auditRow(4, "partial"), auditRow(3, "failed"), auditRow(2, "pending"), auditRow(1, "unknown"),
			},
			OlderURL: "/audit?before=1&q=user%3Aalice", NewerURL: "/audit?after=5&q=user%3Aalice", NewestURL: "/audit?q=user%3Aalice",
			ExportCSVURL: "/audit/export.csv?q=user%3Aalice", ExportNDJSONURL: "/audit/export.ndjson?q=user%3Aalice",
		},
		Verify: AuditVerifyVM{StartURL: "/audit/verify", CSRFToken: "tok-123"},
	}
}

func TestAuditPage(t *testing.T) {
	doc := render(t, AuditPage(auditPageVM()))

	t.Run("Rows", func(t *testing.T) {
		rows := doc.Find(`[data-testid="audit-row"]`)
		if rows.Length() != 5 {
			t.Fatalf("%d rows", rows.Length())
		}
		first := rows.First()
		if first.AttrOr("data-event-id", "") != "5" || first.Find(`[data-testid="event-link"]`).AttrOr("href", "") != "/audit/events/11111" {
			t.Error("row without its detail link")
		}
		if got := first.Find(`[data-testid="row-time"]`).Text(); got != "2026-11-20 17:00:00" {
			t.Errorf("time %q", got)
		}
		for _, id := range []string{"row-actor", "row-action", "row-subject", "row-summary", "row-ticket"} {
			if first.Find(`[data-testid="`+id+`"]`).Length() != 1 {
				t.Errorf("row lacks %s", id)
			}
		}
	})
	t.Run("OutcomeBadges", func(t *testing.T) {
		classes := map[string]bool{}
		doc.Find(`[data-testid="audit-row"] [data-testid="outcome"]`).Each(func(_ int, s *goquery.Selection) {
			o := s.AttrOr("data-outcome", "")
			if !s.HasClass("audit-outcome-"+o) || s.Text() != strings.ToUpper(o) {
				t.Errorf("badge %q: class %q text %q", o, s.AttrOr("class", ""), s.Text())
			}
			classes[s.AttrOr("class", "")] = true
		})
		if len(classes) != 5 {
			t.Errorf("%d distinct badge styles for 5 outcomes", len(classes))
		}
	})
	t.Run("HostileTextIsText", func(t *testing.T) {
		if doc.Find("img[onerror]").Length() != 0 {
			t.Fatal("auditHostile text became markup")
		}
		if got := doc.Find(`[data-testid="row-ticket"]`).First().Text(); got != auditHostile {
			t.Errorf("ticket %q", got)
		}
	})
	t.Run("HTMXWithoutInheritance", func(t *testing.T) {
		// disableInheritance: every element states its own target and swap.
		for _, sel := range []string{`[data-testid="page-older"]`, `[data-testid="page-newer"]`, `[data-testid="query-form"]`, `[data-testid="filter-form"]`, `[data-testid="jump-form"]`} {
			s := doc.Find(sel)
			if s.AttrOr("hx-get", "") == "" || s.AttrOr("hx-target", "") != "#audit-results" || s.AttrOr("hx-swap", "") != "outerHTML" || s.AttrOr("hx-push-url", "") != "true" {
				t.Errorf("%s: hx attributes %v", sel, s.Nodes[0].Attr)
			}
		}
		if doc.Find("[hx-swap-oob]").Length() != 0 {
			t.Error("the full page marks its forms for an out-of-band swap")
		}
	})
	t.Run("NoInlineScriptOrStyle", func(t *testing.T) {
		if doc.Find("script:not([src]), style, [style]").Length() != 0 {
			t.Error("inline script or style")
		}
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("inline handler %s", a.Key)
				}
			}
		})
	})
	t.Run("Forms", func(t *testing.T) {
		if doc.Find(`[data-testid="query-input"]`).AttrOr("value", "") != "user:alice" {
			t.Error("query line")
		}
		if doc.Find(`[data-testid="filter-action"] option[selected]`).AttrOr("value", "") != "edits" {
			t.Error("action kind not selected")
		}
		if doc.Find(`[data-testid="verify-form"] input[name="_csrf"]`).AttrOr("value", "") != "tok-123" {
			t.Error("verify form without its CSRF token")
		}
	})
}

func TestAuditFragment(t *testing.T) {
	vm := auditPageVM()
	vm.Filter.OOB = true
	vm.Filter.Error = `"maybe" is not an outcome`
	doc := render(t, AuditFragment(vm))
	if doc.Find("header.topbar").Length() != 0 || doc.Find("#audit-results").Length() != 1 {
		t.Fatal("the fragment is not the results alone")
	}
	if doc.Find(`#audit-filters[hx-swap-oob="true"]`).Length() != 1 {
		t.Fatal("the forms are not swapped out of band")
	}
	if doc.Find(`[data-testid="filter-error"]`).Text() != `"maybe" is not an outcome` {
		t.Error("error message")
	}
}

func TestAuditEventPage(t *testing.T) {
	vm := AuditEventPageVM{
		Layout: testLayout(), BackURL: "/audit",
		Event: AuditEventVM{
			ID: 42, Time: AuditTimeVM{Local: "2026-11-20 17:00:00", UTC: "2026-11-20 09:00:00.000000Z"}, TimeZone: "Asia/Shanghai",
			Actor: "agent", RoleLabel: "Agent", ActorID: "2", UserAgent: auditHostile, ClientIP: "192.0.2.1",
			Action: "conversation.move", ActionLabel: "Move", Subject: "alice", SubjectURL: "/audit?q=user%3Aalice",
			Groups: []string{"A", auditHostile}, Ticket: auditHostile, TicketURL: "/audit?q=ticket",
			Outcome: AuditOutcomeVM{Key: "partial", Label: "Partial"}, ResultCode: 50002, ResultMeaning: "not in list",
			Detail: []AuditKeyValueVM{{Key: "query", Value: auditHostile}},
			Diff: []AuditGroupDiffVM{
				{Name: "A", Kind: AuditDiffChanged, KindLabel: "Members changed", Lines: []AuditDiffLineVM{
					{Kind: AuditLineRemoved, ConversationID: "c2c_bob", Text: "removed from “A”"},
				}},
				{Name: auditHostile, Kind: AuditDiffChanged, KindLabel: "Members changed", Lines: []AuditDiffLineVM{
					{Kind: AuditLineAdded, ConversationID: "c2c_bob", Text: "added to “" + auditHostile + "”"},
				}},
				{Name: "New", OldName: "Old", Kind: AuditDiffRenamed, KindLabel: "Renamed"},
			},
			Results: []AuditConversationResultVM{
				{ConversationID: "c2c_bob", Code: 0, Meaning: "Done.", OK: true},
				{ConversationID: "c2c_x", Code: 50002, Meaning: "not in list"},
			},
			Hash: "abc", PrevHash: "def", PrevURL: "/audit/events/41",
		},
	}
	doc := render(t, AuditEventPage(vm))
	lines := doc.Find(`[data-testid="diff-line"]`)
	if lines.Length() != 2 {
		t.Fatalf("%d diff lines", lines.Length())
	}
	removed := doc.Find(`[data-testid="diff-line"][data-kind="removed"]`)
	if !strings.Contains(removed.Text(), "removed from “A”") || !removed.HasClass("audit-line-removed") {
		t.Errorf("removed line %q", removed.Text())
	}
	added := doc.Find(`[data-testid="diff-line"][data-kind="added"]`)
	if !strings.Contains(added.Text(), "added to “"+auditHostile+"”") {
		t.Errorf("added line %q", added.Text())
	}
	r := doc.Find(`[data-testid="diff-group"][data-kind="renamed"]`)
	if r.Find(`[data-testid="diff-old-name"]`).Text() != "Old" || r.Find(`[data-testid="diff-new-name"]`).Text() != "New" {
		t.Error("rename not shown as old → new")
	}
	if doc.Find(`[data-testid="conversation-result"]`).Length() != 2 {
		t.Error("per-conversation results")
	}
	if doc.Find("img[onerror]").Length() != 0 {
		t.Fatal("auditHostile text became markup")
	}
	if got := doc.Find(`[data-testid="field-user-agent"] dd`).Text(); !strings.Contains(got, auditHostile) {
		t.Errorf("user agent shown as %q", got)
	}
	if doc.Find(`[data-testid="board-link"]`).Length() != 0 {
		t.Error("board link without a board URL")
	}
}

func TestAuditVerifyStatus(t *testing.T) {
	t.Run("Running", func(t *testing.T) {
		doc := render(t, AuditVerifyStatus(AuditVerifyVM{Running: true, StatusURL: "/audit/verify/j1", Checked: 20000, Total: 1000000, Progress: "Checked 20,000 of 1,000,000 events…"}))
		s := doc.Find(`[data-testid="verify-status"]`)
		if s.AttrOr("hx-get", "") != "/audit/verify/j1" || s.AttrOr("hx-trigger", "") != "every 1s" || s.AttrOr("hx-target", "") != "this" || s.AttrOr("hx-swap", "") != "outerHTML" {
			t.Errorf("polling attributes %v", s.Nodes[0].Attr)
		}
		p := doc.Find(`progress[data-testid="verify-progress"]`)
		if p.AttrOr("value", "") != "20000" || p.AttrOr("max", "") != "1000000" {
			t.Errorf("progress %v", p.Nodes[0].Attr)
		}
		if !strings.Contains(doc.Find(`[data-testid="verify-progress-text"]`).Text(), "20,000 of 1,000,000") {
			t.Error("progress text")
		}
	})
	t.Run("Broken", func(t *testing.T) {
		doc := render(t, AuditVerifyStatus(AuditVerifyVM{Done: true, Checked: 7, Total: 7, Verdict: "BROKEN at event 7: " + auditHostile}))
		s := doc.Find(`[data-testid="verify-status"]`)
		if _, ok := s.Attr("hx-trigger"); ok || s.AttrOr("data-state", "") != "broken" || !s.HasClass("audit-verify-broken") {
			t.Errorf("finished status %v", s.Nodes[0].Attr)
		}
		if doc.Find(`[data-testid="verify-verdict"]`).AttrOr("data-ok", "") != "false" || doc.Find("img[onerror]").Length() != 0 {
			t.Error("verdict")
		}
	})
}
