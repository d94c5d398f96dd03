package convdesk

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ConversationType is the kind of a conversation, numbered as in the IM SDK.
type ConversationType int

// Conversation types.
const (
	ConversationAny   ConversationType = 0 // in filters: do not filter by type
	ConversationC2C   ConversationType = 1 // one-to-one chat
	ConversationGroup ConversationType = 2 // group chat
)

// String returns the SDK name of the type.
func (t ConversationType) String() string {
	switch t {
	case ConversationC2C:
		return "C2C"
	case ConversationGroup:
		return "Group"
	}
	return "any"
}

// Limits on identifiers, from the IM account and group documentation.
const (
	MaxUserIDBytes  = 32
	MaxGroupIDBytes = 48
)

const (
	c2cPrefix   = "c2c_"
	groupPrefix = "group_"
)

// ConversationID identifies a conversation the way the IM SDK does:
// "c2c_<userID>" for one-to-one chats and "group_<groupID>" for group chats.
// A value of this type has been validated by ParseConversationID.
type ConversationID string

// ParseConversationID validates s and returns it as a ConversationID.
func ParseConversationID(s string) (ConversationID, error) {
	bad := func(why string) error {
		return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonBadConversationID,
			Message: fmt.Sprintf("%q is not a valid conversation ID: %s", BoundText(s, maxEchoedBytes), why)}
	}
	switch {
	case strings.HasPrefix(s, c2cPrefix):
		if ValidateUserID(s[len(c2cPrefix):]) != nil {
			return "", bad("the user ID after c2c_ is invalid")
		}
	case strings.HasPrefix(s, groupPrefix):
		if !validGroupChatID(s[len(groupPrefix):]) {
			return "", bad("the group ID after group_ is invalid")
		}
	default:
		return "", bad("it must start with c2c_ or group_")
	}
	return ConversationID(s), nil
}

// Type returns the conversation's type.
func (c ConversationID) Type() ConversationType {
	switch {
	case strings.HasPrefix(string(c), c2cPrefix):
		return ConversationC2C
	case strings.HasPrefix(string(c), groupPrefix):
		return ConversationGroup
	}
	return ConversationAny
}

// PeerID returns the user ID (C2C) or group ID (group chat) the conversation is with.
func (c ConversationID) PeerID() string {
	switch c.Type() {
	case ConversationC2C:
		return string(c)[len(c2cPrefix):]
	case ConversationGroup:
		return string(c)[len(groupPrefix):]
	}
	return ""
}

// ValidateUserID checks an end user's ID by the console's own rule: 1 to
// MaxUserIDBytes bytes of printable ASCII (0x20–0x7e, space included).
// Tencent documents only the length (at most 32 bytes); this rule admits
// every ID made of letters, digits and punctuation, and keeps control
// characters and non-ASCII text out of addresses, logs and the trail. A valid
// ID no user has is not refused here: the backend answers "no such user".
func ValidateUserID(id string) error {
	bad := func(msg string) error {
		return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonBadUserID, Message: msg}
	}
	if id == "" {
		return bad("The user ID is empty.")
	}
	if len(id) > MaxUserIDBytes {
		return bad(fmt.Sprintf("A user ID has at most %d bytes.", MaxUserIDBytes))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return bad("A user ID may contain only printable ASCII characters: letters, digits, punctuation and spaces.")
		}
	}
	return nil
}

// validGroupChatID checks an IM group ID: 1–48 bytes; automatic IDs look like
// "@TGS#2ABCDEF", custom ones use letters, digits and _ - . @ #.
func validGroupChatID(id string) bool {
	if id == "" || len(id) > MaxGroupIDBytes {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '_', r == '-', r == '.', r == '@', r == '#':
		default:
			return false
		}
	}
	return true
}

// maxEchoedBytes bounds hostile input quoted back in an error message.
const maxEchoedBytes = 64

// TruncateUTF8 returns s as valid UTF-8 (invalid bytes replaced by U+FFFD),
// cut to at most max bytes at a character boundary: for text from outside
// that goes into messages, logs and the audit trail.
func TruncateUTF8(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
