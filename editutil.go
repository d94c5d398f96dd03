package convdesk

import (
	"errors"
	"fmt"
	"strings"
)

// BoundText makes s safe to record when it comes from a refused request:
// valid UTF-8, at most max bytes (cut at a character boundary, marked with …).
func BoundText(s string, max int) string {
	valid := strings.ToValidUTF8(s, "\uFFFD")
	if t := TruncateUTF8(s, max); len(t) < len(valid) {
		return t + "…"
	}
	return valid
}

// PluralNoun returns "1 conversation" or "n conversations".
func PluralNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// DedupeIDs drops repeated IDs, keeping the first occurrence's position.
func DedupeIDs(ids []ConversationID) []ConversationID {
	if ids == nil {
		return nil
	}
	out := make([]ConversationID, 0, len(ids))
	seen := make(map[ConversationID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func boundNames(names []string) []string {
	if names == nil {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = BoundText(n, maxRecordedIDBytes)
	}
	return out
}

// boundIDs keeps at most MaxConversationsPerEdit IDs, each bounded in length.
func boundIDs(ids []ConversationID) []ConversationID {
	if ids == nil {
		return nil
	}
	if len(ids) > MaxConversationsPerEdit {
		ids = ids[:MaxConversationsPerEdit]
	}
	out := make([]ConversationID, len(ids))
	for i, id := range ids {
		out[i] = ConversationID(BoundText(string(id), maxRecordedIDBytes))
	}
	return out
}

func withDetail(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

func firstFailure(results []OperationResult) int {
	for _, r := range results {
		if !r.OK() {
			return r.Code
		}
	}
	return CodeOK
}

func failures(results []OperationResult) int {
	_, n := CountResults(results)
	return n
}

// asDomainError returns err as a domain error, wrapping foreign errors as
// internal ones.
func asDomainError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if IsOutcomeUnknown(err) {
		return &Error{Kind: EUnavailable, Code: CodeTimeout, Reason: ReasonOutcomeUnknown, Cause: err,
			Message: "The IM service did not answer in time. Nothing is known to have changed; reload the board and try again."}
	}
	return Internal(err)
}
