package convdesk

import (
	"context"
	"fmt"
	"sync"
)

// ListRequest asks for the first page of one listing.
type ListRequest struct {
	Filter ConversationFilter
	// Count is the page size, clamped as ClampPageSize says.
	Count int
}

// BoardView is a board and the first pages of the listings asked for, read
// as one consistent state.
type BoardView struct {
	Board Board
	// Pages[i] answers the i-th ListRequest.
	Pages []ConversationPage
}

// BoardViewLoader is implemented by a backend that reads a board and several
// listings in one go. It is optional: GroupService.LoadBoardView reads a
// backend without it with LoadBoard and ListConversations.
type BoardViewLoader interface {
	// LoadBoardView reads the user's board, calls pick with it to learn which
	// listings to read, and reads them, all in one read (one read
	// transaction on the embedded backend). A listing of a group the board
	// does not hold fails as ListConversations does (the group is not found).
	LoadBoardView(ctx context.Context, userID string, pick func(Board) []ListRequest) (BoardView, error)
}

// boardViewParallelism bounds the listings LoadBoardView runs at once on a
// backend that is not a BoardViewLoader: a remote backend is slow per call, so
// they overlap, and a few at a time stay inside its rate share.
const boardViewParallelism = 3

// LoadBoardView returns the user's board and the first pages of the
// listings pick asks for once it has seen the board, in one read where the
// backend can (BoardViewLoader), else as LoadBoard then ListConversations for
// each, a few at a time. pick may be nil (no listings); each request's count
// is clamped as ListConversations clamps it.
func (s *GroupService) LoadBoardView(ctx context.Context, userID string, pick func(Board) []ListRequest) (BoardView, error) {
	if err := ValidateUserID(userID); err != nil {
		return BoardView{}, err
	}
	asked := -1
	clamped := func(b Board) []ListRequest {
		var reqs []ListRequest
		if pick != nil {
			reqs = pick(b)
		}
		// A copy: the caller's requests stay as it made them.
		out := make([]ListRequest, len(reqs))
		for i, r := range reqs {
			out[i] = ListRequest{Filter: r.Filter, Count: ClampPageSize(r.Count)}
		}
		asked = len(out)
		return out
	}
	if v, ok := s.backend.(BoardViewLoader); ok {
		view, err := v.LoadBoardView(ctx, userID, clamped)
		if err != nil {
			return BoardView{}, err
		}
		// Handlers index Pages by request: a backend that answers
		// otherwise is broken, and saying so beats a panic.
		if asked < 0 || len(view.Pages) != asked {
			return BoardView{}, Internal(fmt.Errorf("board view: %d pages for %d listings", len(view.Pages), max(asked, 0)))
		}
		return view, nil
	}
	board, err := s.backend.LoadBoard(ctx, userID)
	if err != nil {
		return BoardView{}, err
	}
	reqs := clamped(board)
	pages, err := s.listPages(ctx, userID, reqs)
	if err != nil {
		return BoardView{}, err
	}
	return BoardView{Board: board, Pages: pages}, nil
}

// listPages reads the first page of each request, boardViewParallelism at a
// time. The first failure cancels the listings still running or waiting and
// is the answer.
func (s *GroupService) listPages(ctx context.Context, userID string, reqs []ListRequest) ([]ConversationPage, error) {
	pages := make([]ConversationPage, len(reqs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		slots = make(chan struct{}, boardViewParallelism)
	)
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	for i, r := range reqs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			fail(ctx.Err()) // the parent's cancellation, unless a listing failed first
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := recovered(func() error {
				var err error
				pages[i], err = s.backend.ListConversations(ctx, userID, r.Filter, "", r.Count)
				return err
			})
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return pages, nil
}

// recovered runs fn, turning a panic into an internal error: the HTTP
// server's recovery guards the request's goroutine, not the ones started
// for it.
func recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Internal(fmt.Errorf("panic: %v", r))
		}
	}()
	return fn()
}
