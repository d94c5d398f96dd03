package handlers

import (
	"net/http"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// A board page carries its live slot (outside the cached content) only
// when live boards are on.
func TestLiveSlot(t *testing.T) {
	app, _ := newLiveApp(t)
	agent := app.signIn(t, "agent")
	g := app.board("alice").Groups[0]
	ev := renameFrom(t, app, agent, g, "Slot", "")
	for _, headers := range [][]string{nil, hx} {
		// The slot resumes after the trail's newest event before the board
		// was read: the rename at first, then the previous board view.
		head := app.lastEvent().ID
		if head < ev.ID {
			t.Fatalf("the trail's head %d is before the rename %d", head, ev.ID)
		}
		doc, err := goquery.NewDocumentFromReader(agent.get("/users/alice", headers...).Body)
		if err != nil {
			t.Fatal(err)
		}
		slot := doc.Find(`[data-testid="board-live"]`)
		if slot.Length() != 1 || slot.AttrOr("data-after", "") != itoa(head) || slot.AttrOr("data-stream-url", "") != "/users/alice/stream" {
			t.Fatalf("live slot %v after=%q", slot.Length(), slot.AttrOr("data-after", ""))
		}
		if doc.Find(`#board [data-testid="board-live"]`).Length() != 0 {
			t.Fatal("the live slot is inside the cached board content")
		}
	}
	plain := newTestApp(t)
	doc, _ := goquery.NewDocumentFromReader(plain.signIn(t, "agent").get("/users/alice").Body)
	if doc.Find(`[data-testid="board-live"]`).Length() != 0 {
		t.Fatal("a board without a bus has a live slot")
	}
	if rec := plain.signIn(t, "viewer").get("/users/alice/stream"); rec.Code != http.StatusNoContent {
		t.Fatalf("stream without a bus: %d, want 204", rec.Code)
	}
}
