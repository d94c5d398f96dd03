package convdesk_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convdesk/convdesk"
)

func TestParseConversationID(t *testing.T) {
	valid := []struct {
		in   string
		typ  convdesk.ConversationType
		peer string
	}{
		{"c2c_alice", convdesk.ConversationC2C, "alice"},
		{"c2c_user.name@example-1_x", convdesk.ConversationC2C, "user.name@example-1_x"},
		{"c2c_" + strings.Repeat("a", 32), convdesk.ConversationC2C, strings.Repeat("a", 32)},
		{"c2c_c2c_nested", convdesk.ConversationC2C, "c2c_nested"},
		{"group_@TGS#2ABCDEF", convdesk.ConversationGroup, "@TGS#2ABCDEF"},
		{"group_my-team_1", convdesk.ConversationGroup, "my-team_1"},
		{"group_" + strings.Repeat("g", 48), convdesk.ConversationGroup, strings.Repeat("g", 48)},
		// A user ID is any printable ASCII, so a C2C conversation may hold
		// spaces and punctuation after its prefix.
		{"c2c_a b", convdesk.ConversationC2C, "a b"},
		{"c2c_a#b/%?'", convdesk.ConversationC2C, "a#b/%?'"},
		{"c2c_%41", convdesk.ConversationC2C, "%41"},
	}
	for _, tt := range valid {
		t.Run("OK", func(t *testing.T) {
			id, err := convdesk.ParseConversationID(tt.in)
			if err != nil {
				t.Fatalf("%q: %v", tt.in, err)
			}
			if string(id) != tt.in || id.Type() != tt.typ || id.PeerID() != tt.peer {
				t.Fatalf("%q: got %q type %v peer %q", tt.in, id, id.Type(), id.PeerID())
			}
		})
	}
	invalid := map[string]string{
		"ErrEmpty":            "",
		"ErrNoPrefix":         "alice",
		"ErrUpperCasePrefix":  "C2C_alice",
		"ErrEmptyUser":        "c2c_",
		"ErrEmptyGroup":       "group_",
		"ErrUserTooLong":      "c2c_" + strings.Repeat("a", 33),
		"ErrGroupTooLong":     "group_" + strings.Repeat("g", 49),
		"ErrSpaceInGroupID":   "group_a b",
		"ErrCJK":              "c2c_产品",
		"ErrInvalidUTF8":      "c2c_\xff",
		"ErrSlash":            "group_a/b",
		"ErrNUL":              "c2c_a\x00",
		"ErrNewline":          "group_a\n",
		"ErrPrefixOnlyNoSep":  "c2c",
		"ErrOtherType":        "system_1",
		"ErrTab":              "c2c_a\tb",
		"ErrDEL":              "c2c_a\x7f",
		"ErrLeadingSpace":     " c2c_alice",
		"ErrHugeHostileInput": "c2c_" + strings.Repeat("x", 1<<16),
	}
	for name, in := range invalid {
		t.Run(name, func(t *testing.T) {
			id, err := convdesk.ParseConversationID(in)
			if err == nil {
				t.Fatalf("%q: got %q, want an error", in, id)
			}
			if convdesk.KindOf(err) != convdesk.EInvalid || convdesk.CodeOf(err) != convdesk.CodeInvalidParameter ||
				convdesk.ReasonOf(err) != convdesk.ReasonBadConversationID {
				t.Fatalf("%q: kind %s code %d reason %q", in, convdesk.KindOf(err), convdesk.CodeOf(err), convdesk.ReasonOf(err))
			}
			if msg := convdesk.MessageOf(err); len(msg) > 200 || !utf8.ValidString(msg) {
				t.Fatalf("message %d bytes, valid UTF-8 %v: hostile input must be echoed short and clean", len(msg), utf8.ValidString(msg))
			}
		})
	}
}

func TestDedupeIDs(t *testing.T) {
	got := convdesk.DedupeIDs([]convdesk.ConversationID{"c2c_b", "c2c_a", "c2c_b", "group_g", "c2c_a"})
	want := []convdesk.ConversationID{"c2c_b", "c2c_a", "group_g"}
	if strings.Join(ids(got), ",") != strings.Join(ids(want), ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func ids(in []convdesk.ConversationID) []string {
	out := make([]string, len(in))
	for i, id := range in {
		out[i] = string(id)
	}
	return out
}

// A user ID is 1 to 32 bytes of printable ASCII: the console's own rule.
func TestValidateUserID(t *testing.T) {
	for _, id := range []string{"alice", "a b", "a/b", "100%", "what?", "a#b", "it's", " ", "~!@$^&*()+={}[]|\\:;\"<>,.", strings.Repeat("x", 32)} {
		t.Run("OK", func(t *testing.T) {
			if err := convdesk.ValidateUserID(id); err != nil {
				t.Fatalf("%q: %v", id, err)
			}
		})
	}
	for name, id := range map[string]string{
		"ErrEmpty": "", "ErrTooLong": strings.Repeat("x", 33), "ErrTab": "a\tb", "ErrNewline": "a\n",
		"ErrDEL": "a\x7f", "ErrNonASCII": "产品", "ErrInvalidUTF8": "\xff",
	} {
		t.Run(name, func(t *testing.T) {
			err := convdesk.ValidateUserID(id)
			if convdesk.KindOf(err) != convdesk.EInvalid || convdesk.ReasonOf(err) != convdesk.ReasonBadUserID {
				t.Fatalf("%q: kind %s reason %q", id, convdesk.KindOf(err), convdesk.ReasonOf(err))
			}
		})
	}
}

func TestValidateNewGroupName(t *testing.T) {
	name32 := "产品体验" + strings.Repeat("a", 20)
	tests := []struct {
		name     string
		in       string
		existing []string
		wantCode int // 0: valid
	}{
		{"OK", "需求研发", nil, 0},
		{"OKASCII", "Friends", []string{"Family"}, 0},
		{"OK1Byte", "x", nil, 0},
		{"OK32BytesCJKAndASCII", name32, nil, 0},
		{"OK32BytesASCII", strings.Repeat("a", 32), nil, 0},
		{"OK30BytesCJK", strings.Repeat("产", 10), nil, 0},
		{"OKEmoji", "🚀 Launch 🎉", nil, 0},
		{"OKInnerSpace", "产品 体验", nil, 0},
		{"OKDifferentCase", "friends", []string{"Friends"}, 0},
		{"OKPunctuation", `a/b%c"<d>`, nil, 0},
		{"ErrEmpty", "", nil, convdesk.CodeGroupNameTooLong},
		{"ErrTooLong33Bytes", name32 + "b", nil, convdesk.CodeGroupNameTooLong},
		{"ErrTooLong33BytesCJK", strings.Repeat("产", 11), nil, convdesk.CodeGroupNameTooLong},
		{"ErrTooLongEmoji", strings.Repeat("🚀", 9), nil, convdesk.CodeGroupNameTooLong}, // 36 bytes, 9 characters
		{"ErrInvalidUTF8", "ab\xffcd", nil, convdesk.CodeInvalidParameter},
		{"ErrTruncatedCJK", "产品"[:5], nil, convdesk.CodeInvalidParameter},
		{"ErrNewline", "a\nb", nil, convdesk.CodeInvalidParameter},
		{"ErrTab", "a\tb", nil, convdesk.CodeInvalidParameter},
		{"ErrNUL", "a\x00", nil, convdesk.CodeInvalidParameter},
		{"ErrDEL", "a\x7f", nil, convdesk.CodeInvalidParameter},
		{"ErrC1Control", "a\u0085b", nil, convdesk.CodeInvalidParameter},
		{"ErrLineSeparator", "a\u2028b", nil, convdesk.CodeInvalidParameter},
		{"ErrLeadingSpace", " abc", nil, convdesk.CodeInvalidParameter},
		{"ErrTrailingSpace", "abc ", nil, convdesk.CodeInvalidParameter},
		{"ErrTrailingIdeographicSpace", "产品\u3000", nil, convdesk.CodeInvalidParameter},
		{"ErrOnlySpace", " ", nil, convdesk.CodeInvalidParameter},
		{"ErrDuplicate", "产品体验", []string{"需求研发", "产品体验"}, convdesk.CodeInvalidParameter},
		// Invisible and look-alike names (issue 9, defect 8).
		{"ErrZeroWidthSpaceOnly", "\u200b", nil, convdesk.CodeInvalidParameter},
		{"ErrZeroWidthSpaceInside", "VIP 客户\u200b", nil, convdesk.CodeInvalidParameter},
		{"ErrRightToLeftOverride", "abc\u202edef", nil, convdesk.CodeInvalidParameter},
		{"ErrByteOrderMark", "\ufeffVIP", nil, convdesk.CodeInvalidParameter},
		{"ErrSoftHyphen", "VIP\u00ad", nil, convdesk.CodeInvalidParameter},
		{"ErrWordJoiner", "V\u2060IP", nil, convdesk.CodeInvalidParameter},
		{"ErrHangulFiller", "\u3164", nil, convdesk.CodeInvalidParameter},
		{"ErrVariationSelectorOnly", "\ufe0f", nil, convdesk.CodeInvalidParameter},
		{"ErrVariationSelectorsAndSpace", "\ufe0f \ufe0e", nil, convdesk.CodeInvalidParameter},
		{"ErrNoBreakSpace", "VIP\u00a0客户", nil, convdesk.CodeInvalidParameter},
		{"ErrThinSpace", "VIP\u2009客户", nil, convdesk.CodeInvalidParameter},
		{"ErrOnlyIdeographicSpace", "\u3000\u3000", nil, convdesk.CodeInvalidParameter},
		{"OKIdeographicSpaceInside", "产品\u3000体验", nil, 0},
		{"OKEmojiPresentation", "\u2764\ufe0f 客户", nil, 0},
		{"OKEmojiZWJSequence", "\U0001F468\u200d\U0001F469\u200d\U0001F467 家", nil, 0},
		{"ErrZWJBetweenLetters", "VIP\u200d客户", nil, convdesk.CodeInvalidParameter},
		{"ErrDuplicateNFD", "cafe\u0301", []string{"caf\u00e9"}, convdesk.CodeInvalidParameter},
		{"ErrDuplicateNFC", "caf\u00e9", []string{"cafe\u0301"}, convdesk.CodeInvalidParameter},
		{"ErrDuplicateOfInvisibleIMName", "VIP 客户", []string{"VIP 客户\u200b"}, convdesk.CodeInvalidParameter},
		{"ErrDuplicateVariationSelector", "\u2764\ufe0f 客户", []string{"\u2764 客户"}, convdesk.CodeInvalidParameter},
		{"OK32BytesNFD", "cafe\u0301" + strings.Repeat("a", 26), nil, 0},
		{"ErrTooLong33BytesNFD", "cafe\u0301" + strings.Repeat("a", 27), nil, convdesk.CodeGroupNameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := convdesk.ValidateNewGroupName(tt.in, tt.existing)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("%q: %v", tt.in, err)
				}
				return
			}
			if convdesk.KindOf(err) != convdesk.EInvalid || convdesk.CodeOf(err) != tt.wantCode {
				t.Fatalf("%q: got %v (code %d), want invalid with code %d", tt.in, err, convdesk.CodeOf(err), tt.wantCode)
			}
		})
	}
	t.Run("DuplicateMessage", func(t *testing.T) {
		err := convdesk.ValidateNewGroupName("VIP 客户", []string{"VIP 客户"})
		if got := convdesk.MessageOf(err); !strings.Contains(got, "already exists") {
			t.Fatalf("message %q does not say the name exists", got)
		}
		err = convdesk.ValidateNewGroupName("\u200b", nil)
		if got := convdesk.MessageOf(err); !strings.Contains(got, "invisible") {
			t.Fatalf("message %q does not name the invisible character", got)
		}
	})
	t.Run("NameBytes", func(t *testing.T) {
		if got := (convdesk.Group{Name: "产品体验"}).NameBytes(); got != 12 {
			t.Fatalf("got %d, want 12", got)
		}
	})
}

// b64 encodes raw as cursors are encoded.
func b64(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }

func TestClampPageSize(t *testing.T) {
	for _, tt := range []struct{ in, want int }{
		{math.MinInt, convdesk.DefaultPageSize}, {-1, convdesk.DefaultPageSize}, {0, convdesk.DefaultPageSize},
		{1, 1}, {convdesk.MaxPageSize, convdesk.MaxPageSize}, {convdesk.MaxPageSize + 1, convdesk.MaxPageSize}, {math.MaxInt, convdesk.MaxPageSize},
	} {
		if got := convdesk.ClampPageSize(tt.in); got != tt.want {
			t.Fatalf("ClampPageSize(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	ok := convdesk.OperationResult{ConversationID: "c2c_a"}
	bad := convdesk.OperationResult{ConversationID: "c2c_b", Code: convdesk.CodeGroupedLimit}
	for _, tt := range []struct {
		in   []convdesk.OperationResult
		want convdesk.Outcome
	}{
		{nil, convdesk.OutcomeOK},
		{[]convdesk.OperationResult{ok, ok}, convdesk.OutcomeOK},
		{[]convdesk.OperationResult{ok, bad}, convdesk.OutcomePartial},
		{[]convdesk.OperationResult{bad, bad}, convdesk.OutcomeFailed},
	} {
		if got := convdesk.OutcomeOf(tt.in); got != tt.want {
			t.Fatalf("OutcomeOf(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	t.Run("Domain", func(t *testing.T) {
		err := convdesk.Errorf(convdesk.ENotFound, convdesk.CodeGroupNotFound, "The group does not exist (any more).")
		if convdesk.KindOf(err) != convdesk.ENotFound || convdesk.CodeOf(err) != 51009 || convdesk.MessageOf(err) != "The group does not exist (any more)." {
			t.Fatalf("got %s %d %q", convdesk.KindOf(err), convdesk.CodeOf(err), convdesk.MessageOf(err))
		}
	})
	t.Run("InternalDetailHidden", func(t *testing.T) {
		cause := errors.New("SQL logic error near SELECT")
		err := convdesk.Internal(cause)
		if !errors.Is(err, cause) || convdesk.KindOf(err) != convdesk.EInternal || strings.Contains(convdesk.MessageOf(err), "SQL") {
			t.Fatalf("got %v / %q", err, convdesk.MessageOf(err))
		}
		if foreign := errors.New("boom"); convdesk.KindOf(foreign) != convdesk.EInternal || convdesk.CodeOf(foreign) != convdesk.CodeInternal || convdesk.MessageOf(foreign) == "boom" {
			t.Fatal("a foreign error must read as internal")
		}
	})
	t.Run("Nil", func(t *testing.T) {
		if convdesk.KindOf(nil) != "" || convdesk.CodeOf(nil) != 0 || convdesk.MessageOf(nil) != "" {
			t.Fatal("nil error must have no kind, code or message")
		}
	})
}

func FuzzValidateNewGroupName(f *testing.F) {
	for _, s := range []string{
		"", "产品体验", "产品体验" + strings.Repeat("a", 20), "产品体验" + strings.Repeat("a", 21), "a ", " a", "a\nb",
		"\xff", "🚀", "a\u2028", strings.Repeat("产", 11),
	} {
		f.Add(s, "产品体验")
	}
	f.Fuzz(func(t *testing.T, name, existing string) {
		err := convdesk.ValidateNewGroupName(name, []string{existing})
		if err != nil {
			if convdesk.KindOf(err) != convdesk.EInvalid {
				t.Fatalf("%q: kind %s, want invalid", name, convdesk.KindOf(err))
			}
			if code := convdesk.CodeOf(err); code != convdesk.CodeGroupNameTooLong && code != convdesk.CodeInvalidParameter {
				t.Fatalf("%q: code %d", name, code)
			}
			if !utf8.ValidString(convdesk.MessageOf(err)) {
				t.Fatalf("%q: message is not valid UTF-8", name)
			}
			return
		}
		if len(name) == 0 || len(name) > convdesk.MaxGroupNameBytes || !utf8.ValidString(name) ||
			strings.TrimSpace(name) != name || name == existing {
			t.Fatalf("%q accepted against %q", name, existing)
		}
		// A valid name survives the JSON of an audit event unchanged...
		b, err := json.Marshal(convdesk.GroupState{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		var back convdesk.GroupState
		if err := json.Unmarshal(b, &back); err != nil || back.Name != name {
			t.Fatalf("%q: JSON round trip gave %q, %v", name, back.Name, err)
		}
		// ...stays valid, and is refused as a duplicate once it exists.
		if err := convdesk.ValidateNewGroupName(back.Name, nil); err != nil {
			t.Fatalf("%q: valid once, invalid after a round trip: %v", name, err)
		}
		if err := convdesk.ValidateNewGroupName(name, []string{existing, name}); convdesk.CodeOf(err) != convdesk.CodeInvalidParameter {
			t.Fatalf("%q: a duplicate was not refused: %v", name, err)
		}
	})
}
