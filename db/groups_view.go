package db

import (
	"context"

	"github.com/convdesk/convdesk"
)

// LoadBoardView reads the user's board, asks pick which listings to read
// with it, and reads their first pages, all in one read transaction: the
// board and the columns show one state, and the statements are as few as
// the data allows (the user row, the groups, one per listing, one for the
// groups of every listed conversation). pick runs inside the transaction,
// so it should only decide. Each page is what ListConversations answers for
// the same filter and count at the start.
func (db *DB) LoadBoardView(ctx context.Context, userID string, pick func(convdesk.Board) []convdesk.ListRequest) (convdesk.BoardView, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return convdesk.BoardView{}, err
	}
	tx, err := db.ro.BeginTxx(ctx, nil)
	if err != nil {
		return convdesk.BoardView{}, convdesk.Internal(err)
	}
	defer tx.Rollback()
	board, err := loadBoard(ctx, tx, userID)
	if err != nil {
		return convdesk.BoardView{}, domainError(err)
	}
	// The board holds every group of the user in this transaction, so a
	// group it does not hold is missing or someone else's, without asking
	// SQLite. The row IDs are taken before pick runs, so a pick that edits
	// the board's groups cannot widen them.
	rows := make(map[convdesk.GroupID]int64, len(board.Groups))
	for _, g := range board.Groups {
		rows[g.ID], _ = groupRowID(g.ID)
	}
	var reqs []convdesk.ListRequest
	if pick != nil {
		reqs = pick(board)
	}
	view := convdesk.BoardView{Board: board, Pages: make([]convdesk.ConversationPage, len(reqs))}
	lists := make([][]convdesk.Conversation, len(reqs))
	for i, req := range reqs {
		l, err := newListing(userID, req.Filter)
		if err != nil {
			return convdesk.BoardView{}, err
		}
		if req.Filter.Group.Kind == convdesk.InGroup {
			row, ok := rows[req.Filter.Group.Group]
			if !ok {
				return convdesk.BoardView{}, errGroupNotFound()
			}
			l.inGroup(row)
		}
		page, err := l.read(ctx, tx, listCursor{}, "", convdesk.ClampPageSize(req.Count))
		if err != nil {
			return convdesk.BoardView{}, convdesk.Internal(err)
		}
		view.Pages[i], lists[i] = page, page.Conversations
	}
	if err := fillGroups(ctx, tx, userID, lists...); err != nil {
		return convdesk.BoardView{}, convdesk.Internal(err)
	}
	return view, nil
}
