package convdesk

import (
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
	switch {
	case strings.HasPrefix(s, c2cPrefix):
		if err := ValidateUserID(s[len(c2cPrefix):]); err != nil {
			return "", Errorf(EInvalid, CodeInvalidParameter, "%q is not a valid conversation ID: the user ID after c2c_ is invalid", truncateForMessage(s))
		}
	case strings.HasPrefix(s, groupPrefix):
		if err := validateGroupChatID(s[len(groupPrefix):]); err != nil {
			return "", Errorf(EInvalid, CodeInvalidParameter, "%q is not a valid conversation ID: the group ID after group_ is invalid", truncateForMessage(s))
		}
	default:
		return "", Errorf(EInvalid, CodeInvalidParameter, "%q is not a valid conversation ID: it must start with c2c_ or group_", truncateForMessage(s))
	}
	return ConversationID(s), nil
}

// ParseConversationIDs parses every ID in ss, failing on the first invalid one.
// Duplicates are dropped, keeping the first occurrence's position.
func ParseConversationIDs(ss []string) ([]ConversationID, error) {
	out := make([]ConversationID, 0, len(ss))
	seen := make(map[ConversationID]bool, len(ss))
	for _, s := range ss {
		id, err := ParseConversationID(s)
		if err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// C2CConversationID returns the conversation ID of a one-to-one chat with userID.
func C2CConversationID(userID string) (ConversationID, error) {
	return ParseConversationID(c2cPrefix + userID)
}

// GroupConversationID returns the conversation ID of the group chat groupID.
func GroupConversationID(groupID string) (ConversationID, error) {
	return ParseConversationID(groupPrefix + groupID)
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

// ValidateUserID checks an IM user ID: 1–32 bytes of letters, digits and the
// characters IM accounts commonly use (_ - . @).
func ValidateUserID(id string) error {
	if id == "" {
		return Errorf(EInvalid, CodeInvalidParameter, "the user ID is empty")
	}
	if len(id) > MaxUserIDBytes {
		return Errorf(EInvalid, CodeInvalidParameter, "a user ID has at most %d bytes", MaxUserIDBytes)
	}
	for _, r := range id {
		if !isIDRune(r) || r == '#' {
			return Errorf(EInvalid, CodeInvalidParameter, "a user ID may contain only letters, digits and _ - . @")
		}
	}
	return nil
}

// validateGroupChatID checks an IM group ID: 1–48 bytes; automatic IDs look like
// "@TGS#2ABCDEF", custom ones use letters, digits and _ - . @ #.
func validateGroupChatID(id string) error {
	if id == "" || len(id) > MaxGroupIDBytes {
		return Errorf(EInvalid, CodeInvalidParameter, "a group ID has 1 to %d bytes", MaxGroupIDBytes)
	}
	for _, r := range id {
		if !isIDRune(r) {
			return Errorf(EInvalid, CodeInvalidParameter, "a group ID may contain only letters, digits and _ - . @ #")
		}
	}
	return nil
}

func isIDRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r == '_', r == '-', r == '.', r == '@', r == '#':
		return true
	}
	return false
}

// truncateForMessage keeps error messages short when echoing hostile input.
func truncateForMessage(s string) string {
	const max = 64
	if t := TruncateUTF8(s, max); len(t) < len(strings.ToValidUTF8(s, "\uFFFD")) {
		return t + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

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
