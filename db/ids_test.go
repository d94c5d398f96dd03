package db

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

func TestListCursor(t *testing.T) {
	t.Run("StartIsEmpty", func(t *testing.T) {
		if s := (listCursor{}).encode(); s != "" {
			t.Fatalf("start encodes as %q, want empty", s)
		}
		c, err := decodeCursor("")
		if err != nil || !c.isStart() {
			t.Fatalf("got %+v, %v; want the start", c, err)
		}
	})
	for _, c := range []listCursor{
		{OrderKey: 0, After: "c2c_a"},
		{OrderKey: 1700000000123456, After: "group_@TGS#2ABCDEF"},
		{OrderKey: -42, After: "c2c_user.name@x"},
		{OrderKey: math.MaxInt64, After: "group_" + convdesk.ConversationID(strings.Repeat("g", 48))},
		{OrderKey: math.MinInt64, After: "c2c_" + convdesk.ConversationID(strings.Repeat("u", 32))},
	} {
		t.Run("RoundTrip", func(t *testing.T) {
			s := c.encode()
			if strings.ContainsAny(string(s), "+/=?&# ") {
				t.Fatalf("%q is not URL-safe", s)
			}
			got, err := decodeCursor(s)
			if err != nil || got != c {
				t.Fatalf("got %+v, %v; want %+v", got, err, c)
			}
		})
	}
	for _, bad := range []string{"!", "not-a-cursor", b64("5"), b64("x:c2c_a"), b64("5:c2c_a\tb"), b64("5:nope"), strings.Repeat("A", 300)} {
		if _, err := decodeCursor(convdesk.Cursor(bad)); convdesk.KindOf(err) != convdesk.EInvalid || convdesk.ReasonOf(err) != convdesk.ReasonBadCursor {
			t.Errorf("%q: got %v, want invalid with reason bad_cursor", bad, err)
		}
	}
}

func TestGroupRowID(t *testing.T) {
	for id, want := range map[convdesk.GroupID]int64{"1": 1, "42": 42, "9223372036854775807": math.MaxInt64} {
		if got, ok := groupRowID(id); !ok || got != want || groupID(got) != id {
			t.Errorf("%q: got %d, %v", id, got, ok)
		}
	}
	for _, id := range []convdesk.GroupID{"", "0", "-1", "+1", "01", "1e3", "x", "9223372036854775808", " 1"} {
		if _, ok := groupRowID(id); ok {
			t.Errorf("%q: accepted", id)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "!", string(listCursor{OrderKey: 5, After: "c2c_a"}.encode()),
		string(listCursor{OrderKey: -1, After: "group_@TGS#1"}.encode()), b64("5:c2c_a\tb"), b64("+5:c2c_a"), strings.Repeat("A", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(convdesk.Cursor(s))
		if err != nil {
			if convdesk.KindOf(err) != convdesk.EInvalid {
				t.Fatalf("%q: kind %s, want invalid", s, convdesk.KindOf(err))
			}
			return
		}
		if s != "" && c.isStart() {
			t.Fatalf("%q: a non-empty cursor decoded to the start", s)
		}
		again, err := decodeCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("%q: round trip gave %+v, %v; want %+v", s, again, err, c)
		}
	})
}
