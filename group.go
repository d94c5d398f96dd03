package convdesk

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The IM SDK's limits on conversation groups.
const (
	MaxGroupsPerUser        = 20   // 51010 beyond
	MaxGroupNameBytes       = 32   // 51011 beyond; bytes of UTF-8, not characters
	MaxGroupedConversations = 1000 // 51008 beyond: conversations in at least one group
	// MaxConversationsPerEdit bounds one batch edit (the REST mark API's 100 per call
	// is the closest documented figure).
	MaxConversationsPerEdit = 100
)

// GroupID is the stable identifier of a conversation group, opaque outside
// the backend that made it (a row ID on SQLite, Tencent's integer GroupId on
// the IM service). The IM service addresses groups by name; convdesk keeps an
// ID so that URLs and forms never carry a name (names may contain '/' or
// '%'). The zero value "" means "in no group" where a place is asked for.
type GroupID string

// UnmarshalJSON reads a group ID as JSON carries it: a string, or a number as
// events recorded before IDs became opaque strings hold it (those events keep
// their stored text, so their hashes still verify).
func (g *GroupID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' {
		if string(b) == "null" {
			return nil
		}
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*g = GroupID(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*g = GroupID(s)
	return nil
}

// Group is one of a user's conversation groups.
type Group struct {
	ID        GroupID
	Name      string
	CreatedAt time.Time
	// Count is the number of conversations in the group.
	Count int
}

// NameBytes returns the length of the group's name in bytes of UTF-8.
func (g Group) NameBytes() int { return len(g.Name) }

// GroupNameProblem names the rule a group name breaks, so that each adapter
// can say so in its own words (the handlers translate it).
type GroupNameProblem int

// The rules a new group name can break, in the order they are checked.
const (
	GroupNameOK        GroupNameProblem = iota
	GroupNameEmpty                      // no bytes at all
	GroupNameNotUTF8                    // not valid UTF-8
	GroupNameTooLong                    // more than MaxGroupNameBytes bytes
	GroupNameControl                    // a control character or line/paragraph separator
	GroupNameInvisible                  // a format or otherwise invisible character
	GroupNameOddSpace                   // a space other than U+0020 and U+3000
	GroupNameBlank                      // nothing but spaces
	GroupNameEdgeSpace                  // starts or ends with a space
	GroupNameDuplicate                  // the user has a group whose name looks the same
)

// CheckGroupName returns the first rule name breaks on its own (everything
// but uniqueness), with the offending character for the character rules.
//
// Invisible characters are refused because two names that differ only by
// one look the same on every screen: an agent, or the user's app, could not
// tell "VIP 客户" from "VIP 客户" followed by a zero-width space, and a
// right-to-left override makes a name read other than it is stored. Refused:
// every format character (Unicode Cf: ZWSP, RLO, BOM, soft hyphen, word
// joiner…), except a zero-width joiner inside an emoji sequence (the family
// emoji is made that way); the default-ignorable characters that render as
// nothing (Hangul fillers, the combining grapheme joiner, Khmer inherent
// vowels) and the braille blank; a variation selector that follows no
// visible character; and spaces other than U+0020 and the ideographic space
// U+3000, which Chinese text uses.
func CheckGroupName(name string) (GroupNameProblem, rune) {
	switch {
	case name == "":
		return GroupNameEmpty, 0
	case !utf8.ValidString(name):
		return GroupNameNotUTF8, 0
	case len(name) > MaxGroupNameBytes:
		return GroupNameTooLong, 0
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return GroupNameControl, r
		}
	}
	prev := rune(-1)
	for i, r := range name {
		next := rune(-1)
		if n, _ := utf8.DecodeRuneInString(name[i+utf8.RuneLen(r):]); n != utf8.RuneError {
			next = n
		}
		switch {
		case r == '\u200d' && emojiJoinable(prev) && unicode.Is(unicode.So, next):
		case isVariationSelector(r):
			if prev < 0 || isSpace(prev) || isVariationSelector(prev) || ignorable(prev) {
				return GroupNameInvisible, r
			}
		case ignorable(r):
			return GroupNameInvisible, r
		case unicode.Is(unicode.Zs, r) && !isSpace(r):
			return GroupNameOddSpace, r
		}
		prev = r
	}
	if strings.TrimFunc(name, isSpace) == "" {
		return GroupNameBlank, 0
	}
	if strings.TrimSpace(name) != name {
		return GroupNameEdgeSpace, 0
	}
	return GroupNameOK, 0
}

// isSpace reports whether r is one of the two spaces a name may hold inside.
func isSpace(r rune) bool { return r == ' ' || r == '\u3000' }

// isVariationSelector reports whether r selects a variant of the character
// before it (emoji or text presentation, CJK ideographic variants, Mongolian
// free variation selectors).
func isVariationSelector(r rune) bool {
	return (r >= '\ufe00' && r <= '\ufe0f') || (r >= 0xe0100 && r <= 0xe01ef) ||
		(r >= '\u180b' && r <= '\u180d') || r == '\u180f'
}

// ignorable reports whether r shows as nothing: a format character, or one
// of the default-ignorable or blank characters that are not format characters.
func ignorable(r rune) bool {
	if unicode.Is(unicode.Cf, r) {
		return true
	}
	switch r {
	case '\u034f', '\u115f', '\u1160', '\u17b4', '\u17b5', '\u2800', '\u3164', '\uffa0':
		return true
	}
	return false
}

// emojiJoinable reports whether a zero-width joiner after r continues an
// emoji sequence: r is a pictographic symbol, an emoji variation selector or
// a skin-tone modifier.
func emojiJoinable(r rune) bool {
	return unicode.Is(unicode.So, r) || r == '\ufe0f' || (r >= 0x1f3fb && r <= 0x1f3ff)
}

// GroupNameKey is what two group names are compared by for uniqueness: the
// name without the characters that show as nothing (format characters,
// variation selectors and the other ignorables, which IM names may still
// hold), in Unicode normalisation form C, so that names that look the same
// (NFC and NFD "café", "VIP 客户" with and without a zero-width space) are
// the same name. It is never stored or sent: a name is kept exactly as typed.
func GroupNameKey(name string) string {
	visible := strings.Map(func(r rune) rune {
		if ignorable(r) || isVariationSelector(r) {
			return -1
		}
		return r
	}, name)
	return norm.NFC.String(visible)
}

// SameGroupName reports whether names a and b count as the same name.
func SameGroupName(a, b string) bool {
	return a == b || GroupNameKey(a) == GroupNameKey(b)
}

// ValidateNewGroupName applies the rules for a name being given to a group now
// (create or rename): 1–32 bytes of valid UTF-8 as typed (the bytes sent to
// the IM), no control or invisible characters, no spaces but U+0020 and
// U+3000 and none at either end, and not the same name (by GroupNameKey) as
// one in existing. Names that already exist on the IM side may break the
// stricter rules; they are shown as they are and kept byte for byte. The
// refusal carries its reason, with the name's length or the character at
// fault among its facts.
func ValidateNewGroupName(name string, existing []string) error {
	refuse := func(code int, reason Reason, facts map[string]string, format string, args ...any) error {
		return &Error{Kind: EInvalid, Code: code, Reason: reason, Facts: facts, Message: fmt.Sprintf(format, args...)}
	}
	problem, r := CheckGroupName(name)
	char := map[string]string{"char": fmt.Sprintf("%U", r)}
	switch problem {
	case GroupNameEmpty:
		return refuse(CodeGroupNameTooLong, ReasonEmptyName, nil, "The group name is empty. Give it 1 to %d bytes.", MaxGroupNameBytes)
	case GroupNameNotUTF8:
		return refuse(CodeInvalidParameter, ReasonInvalidUTF8, nil, "The group name is not valid UTF-8 text.")
	case GroupNameTooLong:
		return refuse(CodeGroupNameTooLong, ReasonNameTooLong, map[string]string{"bytes": strconv.Itoa(len(name))},
			"The group name is %d bytes long; the limit is %d bytes (a Chinese character takes 3).", len(name), MaxGroupNameBytes)
	case GroupNameControl:
		return refuse(CodeInvalidParameter, ReasonControlCharacter, char, "The group name contains a control character.")
	case GroupNameInvisible:
		return refuse(CodeInvalidParameter, ReasonInvisibleCharacter, char, "The group name contains an invisible character (%U); remove it.", r)
	case GroupNameOddSpace:
		return refuse(CodeInvalidParameter, ReasonOddSpace, char, "The group name contains an unusual space (%U); use an ordinary space.", r)
	case GroupNameBlank:
		return refuse(CodeInvalidParameter, ReasonBlankName, nil, "The group name is only spaces.")
	case GroupNameEdgeSpace:
		return refuse(CodeInvalidParameter, ReasonEdgeSpace, nil, "The group name starts or ends with a space.")
	}
	key := GroupNameKey(name)
	for _, e := range existing {
		if e == name || GroupNameKey(e) == key {
			return refuse(CodeInvalidParameter, ReasonDuplicateName, nil, "A group with this name already exists.")
		}
	}
	return nil
}

// Mark is a bit set of conversation marks, valued as in the IM SDK.
type Mark uint64

// The SDK's standard marks.
const (
	MarkStar   Mark = 1 << 0
	MarkUnread Mark = 1 << 1
	MarkFold   Mark = 1 << 2
	MarkHide   Mark = 1 << 3
)

// Has reports whether every bit of m2 is set in m.
func (m Mark) Has(m2 Mark) bool { return m&m2 == m2 }

// Conversation is one entry of a user's conversation list.
type Conversation struct {
	ID            ConversationID
	ShowName      string
	FaceURL       string
	LastMessage   string // private: shown only after an audited reveal
	LastMessageAt time.Time
	UnreadCount   int
	Pinned        bool
	Marks         Mark
	OrderKey      int64 // larger sorts higher
	// Groups are the IDs of the groups the conversation is in.
	Groups []GroupID
}

// Type returns the conversation's type.
func (c Conversation) Type() ConversationType { return c.ID.Type() }

// InGroup reports whether the conversation is in group g.
func (c Conversation) InGroup(g GroupID) bool { return slices.Contains(c.Groups, g) }

// User is an end user of the IM app.
type User struct {
	ID                string
	Nickname          string
	FaceURL           string
	GroupCount        int
	ConversationCount int
}

// Board is a user's conversation groups as their app sees them, with the
// state token that every edit changes. Conversations are listed page by page
// with ListConversations.
type Board struct {
	User   User
	Groups []Group // in creation order, as the SDK lists them
	// State is the backend's opaque state token, which every edit changes;
	// edits carry it back to be refused when the board went stale.
	State StateToken
	// GroupedCount is the number of conversations in at least one group.
	GroupedCount int
	// UngroupedCount is the number of conversations in no group.
	UngroupedCount int
	// LastChange describes the edit that produced State, if any.
	LastChange *ChangeInfo
}

// ChangeInfo says who last changed a board and how.
type ChangeInfo struct {
	At      time.Time
	By      string
	Action  Action
	Summary string
}

// Group returns the board's group with the given ID.
func (b Board) Group(id GroupID) (Group, bool) {
	for _, g := range b.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// GroupNames returns the names of the board's groups.
func (b Board) GroupNames() []string {
	names := make([]string, len(b.Groups))
	for i, g := range b.Groups {
		names[i] = g.Name
	}
	return names
}
