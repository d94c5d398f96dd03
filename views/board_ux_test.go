package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestBoardRailAndKeys checks the group rail, the skip links, the drop
// labels, the shortcuts dialog and the Move dialog's filter box.
func TestBoardRailAndKeys(t *testing.T) {
	b := testBoard(true)
	b.Targets[0].Key, b.Targets[0].Count = "g1", 8
	b.Targets[1].Key, b.Targets[2].Key = "g2", "g3"
	b.Ungrouped = 28
	doc := render(t, BoardPage(BoardPageVM{Board: b}))

	t.Run("Rail", func(t *testing.T) {
		nav := doc.Find(`nav[aria-label="Groups"]`)
		if nav.Length() != 1 || nav.AttrOr("data-testid", "") != "group-rail" {
			t.Fatalf("%d Groups landmarks, want the rail", nav.Length())
		}
		var got []string
		nav.Find(testID("rail-entry")).Each(func(_ int, s *goquery.Selection) {
			if goquery.NodeName(s) != "button" {
				t.Errorf("a rail entry is a %s, want a button", goquery.NodeName(s))
			}
			got = append(got, s.AttrOr("data-column-id", "")+"|"+s.AttrOr("data-group", "")+"|"+s.AttrOr("data-drop-target", "")+"|"+strings.TrimSpace(s.Find(".rail-count").Text()))
		})
		want := "col-none||group|28,col-g1|1|group|8,col-g2|2|group|0,col-g3|3|group|0"
		if strings.Join(got, ",") != want {
			t.Errorf("rail = %s, want %s", strings.Join(got, ","), want)
		}
		if doc.Find("nav").Length() != 1+doc.Find("header nav, .topbar nav").Length() {
			t.Error("another nav landmark on the board")
		}
	})

	t.Run("DropTargets", func(t *testing.T) {
		if n := doc.Find(`[data-testid="column"][data-drop-target="group"]`).Length(); n != len(b.Columns) {
			t.Errorf("%d columns are drop targets, want %d", n, len(b.Columns))
		}
		if doc.Find(testID("new-group-zone")).AttrOr("data-drop-target", "") != "new" {
			t.Error("the New group zone is not a drop target")
		}
		board := doc.Find(testID("board"))
		for attr, want := range map[string]string{
			"data-drop-move": "Move to {name}", "data-drop-full": "Group limit reached — can't drop here",
			"data-drop-new-one": "New group with 1 conversation",
		} {
			if got := board.AttrOr(attr, ""); got != want {
				t.Errorf("%s = %q, want %q", attr, got, want)
			}
		}
		if doc.Find(testID("column-toggle")).Length() != len(b.Columns) {
			t.Error("not every column can be collapsed")
		}
	})

	t.Run("Keyboard", func(t *testing.T) {
		for _, id := range []string{"skip-groups", "skip-board", "keys-help", "keys-dialog", "conv-filter"} {
			if doc.Find(testID(id)).Length() != 1 {
				t.Errorf("no %s", id)
			}
		}
		if got := doc.Find(testID("skip-groups")).AttrOr("href", ""); got != "#group-rail" {
			t.Errorf("skip to groups goes to %q", got)
		}
		// The filter box is above the native select, which keeps its button.
		html, _ := doc.Find(testID("conv-dialog")).Html()
		if i, j := strings.Index(html, `data-testid="conv-filter"`), strings.Index(html, `data-testid="conv-target"`); i < 0 || j < i {
			t.Error("the filter box is not above the select")
		}
		if doc.Find(testID("conv-move")).Length() != 1 {
			t.Error("the Move button is gone")
		}
		// Cards are reachable by the arrow keys; their menus stay tabbable.
		doc.Find(testID("card")).Each(func(_ int, s *goquery.Selection) {
			if s.AttrOr("tabindex", "") != "-1" {
				t.Errorf("card tabindex %q, want -1 (board.js makes one card 0)", s.AttrOr("tabindex", ""))
			}
			if m := s.Find(testID("card-menu")); m.Length() == 1 && m.AttrOr("tabindex", "") != "" {
				t.Error("a card menu left the Tab order")
			}
		})
	})

	t.Run("ConflictBanner", func(t *testing.T) {
		if doc.Find("#conflict-banner").Length() != 1 || doc.Find(testID("conflict-banner")).Length() != 0 {
			t.Error("the page should have an empty conflict slot")
		}
		up := render(t, BoardUpdate(BoardUpdateVM{Board: b, Conflict: &ConflictVM{Message: "changed by Alex Agent (agent)", DisplayName: "Alex Agent", Username: "agent"}}))
		slot := up.Find("#conflict-banner")
		if slot.AttrOr("hx-swap-oob", "") != "true" || !strings.Contains(slot.Find(testID("conflict-message")).Text(), "Alex Agent (agent)") {
			t.Error("the conflict answer does not fill the banner")
		}
		if slot.Find(testID("conflict-dismiss")).Length() != 1 {
			t.Error("the banner cannot be dismissed")
		}
		if render(t, BoardUpdate(BoardUpdateVM{Board: b})).Find("#conflict-banner").Length() != 0 {
			t.Error("an ordinary answer replaces the banner")
		}
	})
}
