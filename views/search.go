package views

import "context"

// searchTrigger is when the search box asks htmx for results: as the staff
// member types (debounced) where nicknames can be searched, on Enter (the
// browser's "search" event, also sent for the button by static/js) only
// where the backend finds users by exact ID, each search being a remote call
// and an audit event.
func searchTrigger(nicknames bool) string {
	if nicknames {
		return "input changed delay:300ms, search"
	}
	return "search"
}

// searchLabel names the search box for what the backend can search.
func searchLabel(ctx context.Context, nicknames bool) string {
	if nicknames {
		return T(ctx, "search.label")
	}
	return T(ctx, "search.label.exact")
}
