package views

// BoardLiveVM is what a board page needs to follow the board live: the
// stream's address and the last change the page's content reflects. It is
// per viewer and per moment, so it is rendered beside the board's content
// (which the handlers cache per board state), never inside it.
type BoardLiveVM struct {
	// StreamURL is the board's change stream; "" when live boards are off,
	// and the page then works as before, without a stream.
	StreamURL string
	// After is the newest recorded edit of the user read before the board
	// was: the stream replays the edits after it.
	After int64
	// ExtensionURL is the htmx SSE extension's script, which board.js
	// loads when it connects.
	ExtensionURL string
}

// PresenceVM lists the other staff members who have the board open.
type PresenceVM struct {
	Names []string // display names, deduplicated, in the order they joined
}
