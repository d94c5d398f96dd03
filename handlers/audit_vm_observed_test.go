package handlers

import (
	"context"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
)

// A group.observed row in the audit list says what changed outside convdesk
// in the reader's language, as the history drawer does, not the raw groups.
func TestAuditSummaryObserved(t *testing.T) {
	ev := &convdesk.AuditEvent{Action: convdesk.ActionGroupObserved, Outcome: convdesk.OutcomeOK, Detail: map[string]string{
		convdesk.DetailObserved:      `[{"kind":"group_deleted","name":"工作","count":4}]`,
		convdesk.DetailObservedSince: "2026-11-20T14:02:00Z",
		convdesk.DetailObservedUntil: "2026-11-29T09:15:00Z",
	}, GroupNames: []string{"工作"}}
	for lang, want := range map[string]string{
		"en": "Between 2026-11-20 14:02 UTC and 2026-11-29 09:15 UTC, outside convdesk: group “工作” deleted.",
		"zh": "2026-11-20 14:02 UTC 至 2026-11-29 09:15 UTC 之间，在 convdesk 之外：删除分组“工作”。",
	} {
		ctx := locale.With(context.Background(), locale.Pick(lang, ""))
		if got := auditSummary(ctx, ev); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
}
