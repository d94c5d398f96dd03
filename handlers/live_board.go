package handlers

import (
	"context"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// boardLive is a board answer's live slot: per viewer and per moment, so
// it goes beside the board's content (which is cached per board state),
// never into it.
type boardLive struct{ vm views.BoardLiveVM }

// liveSlot reads, before the board is read, the newest event of the whole
// trail: the stream replays every edit of userID after it, so an edit
// committed between this read and the board's is shown again (harmless),
// never lost. The trail's head is one step down its primary key; the
// user's newest edit would be a scan past every view of the board.
// With live boards off, or when the trail cannot be read, the slot is
// empty and the board works without a stream.
func (h *Board) liveSlot(c echo.Context, userID string) boardLive {
	l := h.s.live
	if l == nil || l.bus == nil {
		return boardLive{}
	}
	after, err := trailHead(c.Request().Context(), h.s.audit)
	if err != nil {
		h.s.log.Warn("live board: reading the newest edit failed", "request_id", RequestID(c), "err", err)
		return boardLive{}
	}
	return boardLive{vm: views.BoardLiveVM{
		StreamURL:    h.s.userURL("users.board.stream", userID),
		After:        after,
		ExtensionURL: h.s.assets.url(h.s.echo, assetSSE),
	}}
}

// around puts the live slot beside content (the page's and the fragment's).
func (b boardLive) around(content templ.Component) templ.Component {
	return views.BoardWithLive(b.vm, content)
}

// trailHead returns the ID of the trail's newest event, 0 if none.
func trailHead(ctx context.Context, audit convdesk.AuditLog) (int64, error) {
	evs, err := audit.Query(ctx, convdesk.AuditQuery{Limit: 1})
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	return evs[0].ID, nil
}
