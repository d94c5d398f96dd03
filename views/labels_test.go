package views

import (
	"context"
	"strconv"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
)

// Every action, outcome, code, reason and summary has its label in every
// language: the one table the toasts, history and audit pages use.
func TestLabelTableComplete(t *testing.T) {
	var keys []string
	for _, a := range convdesk.Actions {
		keys = append(keys, "action."+string(a))
	}
	for _, o := range convdesk.Outcomes {
		keys = append(keys, "outcome."+string(o))
	}
	for _, c := range []int{convdesk.CodeOK, convdesk.CodeUserNotFound, convdesk.CodeInvalidParameter, convdesk.CodeInternal,
		convdesk.CodeTimeout, convdesk.CodeGroupedLimit, convdesk.CodeGroupNotFound, convdesk.CodeGroupLimit, convdesk.CodeGroupNameTooLong} {
		keys = append(keys, "code."+strconv.Itoa(c))
	}
	for _, r := range convdesk.Reasons {
		keys = append(keys, "reason."+string(r))
	}
	for _, s := range []convdesk.SummaryCode{convdesk.SummaryCreated, convdesk.SummaryRenamed, convdesk.SummaryDeleted,
		convdesk.SummaryAdded, convdesk.SummaryRemoved, convdesk.SummaryMoved} {
		keys = append(keys, "summary."+string(s))
	}
	for _, lang := range locale.Languages {
		tr := locale.Pick(lang, "")
		for _, k := range keys {
			if tr.T(k, "Count", 2) == k {
				t.Errorf("%s: no label %s", lang, k)
			}
		}
	}
}

func TestReasonLabel(t *testing.T) {
	en := locale.With(context.Background(), locale.English())
	t.Run("OKWithFacts", func(t *testing.T) {
		got := ReasonLabel(en, convdesk.ReasonNameTooLong, map[string]string{"bytes": "40"})
		if got != "The name is 40 bytes long; the limit is 32 bytes (a Chinese character takes 3)." {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("MissingFactFallsBack", func(t *testing.T) {
		if got := ReasonLabel(en, convdesk.ReasonNameTooLong, nil); got != "" {
			t.Fatalf("got %q, want no label", got)
		}
		err := &convdesk.Error{Kind: convdesk.EInvalid, Reason: convdesk.ReasonNameTooLong, Message: "as recorded"}
		if got := RefusalText(en, err); got != "as recorded" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("ResultNotInListIsNotJust50002", func(t *testing.T) {
		notInList := ResultText(en, convdesk.OperationResult{Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonNotInList})
		bad := ResultText(en, convdesk.OperationResult{Code: convdesk.CodeInvalidParameter})
		if notInList == bad || notInList != "Not in this user's conversation list." {
			t.Fatalf("not in list %q, bad parameter %q", notInList, bad)
		}
	})
}

// One move event, rendered in English and Chinese from its detail.
func TestEventTextMove(t *testing.T) {
	ev := &convdesk.AuditEvent{Action: convdesk.ActionConversationMove, Outcome: convdesk.OutcomePartial,
		Message: `moved 2 conversations from "A" to "B"; 1 conversation failed`,
		Detail:  convdesk.Summary{Code: convdesk.SummaryMoved, Count: 2, FromName: "A", ToName: "B", Failed: 1}.Detail()}
	for lang, want := range map[string]string{
		"en": "Moved 2 conversations from “A” to “B”. 1 conversation could not be changed.",
		"zh": "已将 2 个会话从“A”移动到“B”。1 个会话未能修改。",
	} {
		ctx := locale.With(context.Background(), locale.Pick(lang, ""))
		if got := EventText(ctx, ev); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	old := &convdesk.AuditEvent{Action: convdesk.ActionConversationMove, Message: `moved 1 conversation from no group to "B"`}
	if got := EventText(locale.With(context.Background(), locale.Pick("zh", "")), old); got != old.Message {
		t.Errorf("an event without a summary shows %q, want its message", got)
	}
}

func TestObservedText(t *testing.T) {
	detail := map[string]string{
		convdesk.DetailObserved:      `[{"kind":"group_deleted","name":"工作","count":4},{"kind":"conversations_removed","name":"朋友","count":3}]`,
		convdesk.DetailObservedSince: "2026-11-20T14:02:00Z",
		convdesk.DetailObservedUntil: "2026-11-29T09:15:00Z",
	}
	ev := &convdesk.AuditEvent{Action: convdesk.ActionGroupObserved, Outcome: convdesk.OutcomeOK, Detail: detail, Message: "outside"}
	for lang, want := range map[string]string{
		"en": "Between 2026-11-20 14:02 UTC and 2026-11-29 09:15 UTC, outside convdesk: group “工作” deleted, 3 conversations removed from “朋友”.",
		"zh": "2026-11-20 14:02 UTC 至 2026-11-29 09:15 UTC 之间，在 convdesk 之外：删除分组“工作”，3 个会话移出“朋友”。",
	} {
		ctx := locale.With(context.Background(), locale.Pick(lang, ""))
		if got := EventText(ctx, ev); got != want {
			t.Errorf("%s: %q", lang, got)
		}
	}
}
