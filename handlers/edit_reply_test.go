package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
)

// The edit reply is built from the service's result alone: these tests
// build it without a request and check what the staff member is told and
// where focus goes.

func replyBuilder() *builder {
	ctx := context.Background()
	return &builder{
		ctx: ctx, userID: "alice", canEdit: true,
		times:    newTimeFormatter(ctx, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), time.UTC),
		initials: "/avatars/initials.svg",
		urls:     views.BoardURLs{Create: "/users/alice/groups", Rename: "/users/alice/groups/rename"},
	}
}

func replyBoard() convdesk.Board {
	return convdesk.Board{
		User:   convdesk.User{ID: "alice", Nickname: "Alice"},
		Groups: []convdesk.Group{{ID: "1", Name: "产品体验", Count: 2}, {ID: "2", Name: "需求研发", Count: 1}},
		State:  "7",
	}
}

func renderReply(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestEditReplyDone(t *testing.T) {
	b := replyBuilder()
	res := convdesk.EditResult{Changed: true, Outcome: convdesk.OutcomeOK, EventID: 9,
		Summary: convdesk.Summary{Code: convdesk.SummaryMoved, Count: 1, FromName: "产品体验", ToName: "需求研发"}}
	r := b.editReply(editOutcome{action: convdesk.ActionConversationMove, in: editInput{From: "1", To: "2"}, res: res, board: replyBoard()})
	if r.status != http.StatusOK || r.toast == nil || r.toast.level != views.ToastSuccess {
		t.Fatalf("status %d toast %+v, want 200 and a success toast", r.status, r.toast)
	}
	if !strings.Contains(r.toast.message, "需求研发") {
		t.Errorf("toast %q does not name the target group", r.toast.message)
	}
	if r.settle["focus"] != "col-g2-title" || r.settle["close"] != true {
		t.Errorf("settle %v: focus should go to the target column and dialogs close", r.settle)
	}
}

func TestEditReplyNothingToDo(t *testing.T) {
	r := replyBuilder().editReply(editOutcome{action: convdesk.ActionConversationAdd, in: editInput{To: "2"}, board: replyBoard()})
	if r.status != http.StatusOK || r.toast.level != views.ToastInfo || r.toast.message != views.T(context.Background(), "board.toast.noop") {
		t.Fatalf("got %d %+v, want the no-op info toast", r.status, r.toast)
	}
}

func TestEditReplyPartialListsFailures(t *testing.T) {
	b := replyBuilder()
	res := convdesk.EditResult{Changed: true, Outcome: convdesk.OutcomePartial, EventID: 9,
		Summary: convdesk.Summary{Code: convdesk.SummaryAdded, Count: 1, ToName: "需求研发", Failed: 1},
		Results: []convdesk.OperationResult{
			{ConversationID: "c2c_bob"},
			{ConversationID: "c2c_zed", Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonNotInList},
		}}
	cols := []column{{group: convdesk.Group{ID: "2", Name: "需求研发"}, page: convdesk.ConversationPage{
		Conversations: []convdesk.Conversation{{ID: "c2c_zed", ShowName: "Zed Zhou"}}}}}
	r := b.editReply(editOutcome{action: convdesk.ActionConversationAdd, in: editInput{To: "2"}, res: res, board: replyBoard(), columns: cols})
	if r.status != http.StatusOK || r.toast.level != views.ToastWarning {
		t.Fatalf("got %d %+v, want 200 and a warning", r.status, r.toast)
	}
	html := renderReply(t, r.body)
	if !strings.Contains(html, "Zed Zhou") || strings.Contains(html, "c2c_bob</") {
		t.Errorf("the results should name the failed conversation only:\n%s", html)
	}
}

func TestEditReplyConflictKeepsSelection(t *testing.T) {
	err := &convdesk.Error{Kind: convdesk.EConflict, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonStale, Message: "stale"}
	conflict := &views.ConflictVM{Username: "agent", DisplayName: "Alex Agent", Message: "Alex Agent (agent) changed this board"}
	r := replyBuilder().editReply(editOutcome{action: convdesk.ActionGroupRename, in: editInput{Group: "1"}, err: err,
		board: replyBoard(), all: true, conflict: conflict})
	if r.status != http.StatusConflict || r.toast.message != conflict.Message {
		t.Fatalf("got %d %+v, want 409 naming who changed the board", r.status, r.toast)
	}
	if r.settle["close"] != false || r.settle["conflict"] != true {
		t.Errorf("settle %v: a conflict keeps the dialogs open for a retry", r.settle)
	}
	if html := renderReply(t, r.body); !strings.Contains(html, "Alex Agent (agent) changed this board") {
		t.Errorf("the board update lacks the conflict banner:\n%.400s", html)
	}
}

func TestEditReplyTicketRequiredFocusesTicket(t *testing.T) {
	err := &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonTicketRequired, Message: "ticket"}
	b := replyBuilder()
	o := editOutcome{action: convdesk.ActionGroupCreate, in: editInput{Name: "Work"}, err: err, board: replyBoard()}
	if _, ok := b.refusedName(o); ok {
		t.Fatal("a missing ticket is not a refused name: the form should not come back")
	}
	r := b.editReply(o)
	if r.status != http.StatusUnprocessableEntity || r.settle["focus"] != views.TicketInputID {
		t.Fatalf("got %d, settle %v: want 422 with focus on the ticket field", r.status, r.settle)
	}
}

func TestEditReplyRefusedNameComesBackInItsForm(t *testing.T) {
	err := &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeGroupNameTooLong, Reason: convdesk.ReasonNameTooLong, Message: "too long"}
	b := replyBuilder()
	long := strings.Repeat("名", 11)
	r, ok := b.refusedName(editOutcome{action: convdesk.ActionGroupRename, in: editInput{Group: "2", Name: long}, err: err, board: replyBoard()})
	if !ok || r.status != http.StatusUnprocessableEntity || r.retarget != "#col-g2-rename" || r.settle["focus"] != "col-g2-rename-name" {
		t.Fatalf("got ok=%v %+v: want the rename form of column g2 back, focused", ok, r)
	}
	if html := renderReply(t, r.body); !strings.Contains(html, long) {
		t.Errorf("the form lost the name as typed:\n%s", html)
	}
	r, ok = b.refusedName(editOutcome{action: convdesk.ActionGroupCreate, in: editInput{Name: long, Conversations: []string{"c2c_bob", "c2c_bob"}}, err: err, board: replyBoard()})
	if !ok || r.retarget != "#create-form" || strings.Count(renderReply(t, r.body), `value="c2c_bob"`) != 1 {
		t.Fatalf("a refused create should come back in its form with each conversation once: %+v", r)
	}
}
