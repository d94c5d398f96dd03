package db

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/convdesk/convdesk"
)

// The embedded backend's opaque values, encoded and decoded here only: group
// IDs are conv_groups row IDs in decimal, listing cursors are an order key
// and the last conversation ID in URL-safe base64.

// groupID is the domain's ID of a conv_groups row.
func groupID(row int64) convdesk.GroupID { return convdesk.GroupID(strconv.FormatInt(row, 10)) }

// groupRowID reads a group ID back into its row ID; ok is false for an ID
// this backend did not make (no such group).
func groupRowID(id convdesk.GroupID) (int64, bool) {
	s := string(id)
	if s == "" || len(s) > 19 || s[0] == '0' || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// listCursor is a position in a listing ordered by order key (descending),
// ties broken by conversation ID (ascending).
type listCursor struct {
	OrderKey int64
	After    convdesk.ConversationID // the last conversation of the previous page
}

// isStart reports whether c is the start of a listing.
func (c listCursor) isStart() bool { return c.After == "" }

// encode makes the opaque cursor; the start encodes as "".
func (c listCursor) encode() convdesk.Cursor {
	if c.isStart() {
		return ""
	}
	raw := strconv.FormatInt(c.OrderKey, 10) + ":" + string(c.After)
	return convdesk.Cursor(base64.RawURLEncoding.EncodeToString([]byte(raw)))
}

// decodeCursor reads a cursor made by encode; "" is the start.
func decodeCursor(cur convdesk.Cursor) (listCursor, error) {
	s := string(cur)
	if s == "" {
		return listCursor{}, nil
	}
	if len(s) > 256 {
		return listCursor{}, convdesk.InvalidCursor()
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return listCursor{}, convdesk.InvalidCursor()
	}
	key, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return listCursor{}, convdesk.InvalidCursor()
	}
	k, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return listCursor{}, convdesk.InvalidCursor()
	}
	cid, err := convdesk.ParseConversationID(id)
	if err != nil {
		return listCursor{}, convdesk.InvalidCursor()
	}
	return listCursor{OrderKey: k, After: cid}, nil
}
