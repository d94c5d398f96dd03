package views

import (
	"context"

	"github.com/convdesk/convdesk/locale"
)

// T returns the user-visible text for key in the language of ctx (see package
// locale). Arguments come in name/value pairs for the message's placeholders:
// T(ctx, "error.title", "Status", 404). It is the one hook for translation:
// every string a person reads goes through it.
func T(ctx context.Context, key string, args ...any) string {
	return locale.From(ctx).T(key, args...)
}
