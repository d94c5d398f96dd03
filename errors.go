// Package convdesk holds the domain of the convdesk support console: conversation
// groups as the Tencent Cloud IM SDK defines them, users' boards, the edits staff
// make to them, and the audit trail that records every edit and every read.
//
// The package knows nothing about HTTP or SQL. Adapters (db, tencentim, handlers)
// implement or consume the interfaces declared here.
package convdesk

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a domain error; the HTTP layer maps each kind to a status
// in one table.
type ErrorKind string

// The error kinds.
const (
	EInvalid      ErrorKind = "invalid"      // bad input or a rule refused it (422)
	ENotFound     ErrorKind = "not_found"    // no such user, group or conversation (404)
	EConflict     ErrorKind = "conflict"     // the board changed since the caller saw it (409)
	EForbidden    ErrorKind = "forbidden"    // the actor's role may not do this (403)
	EUnauthorized ErrorKind = "unauthorized" // no signed-in actor (401)
	ETooMany      ErrorKind = "too_many"     // throttled (429)
	EUnavailable  ErrorKind = "unavailable"  // a remote backend failed or timed out (503)
	EInternal     ErrorKind = "internal"     // a bug or an unexpected failure (500)
)

// IM result codes, as the Tencent Cloud IM server and SDK report them.
const (
	CodeOK               = 0
	CodeUserNotFound     = 50001 // UserID not imported into IM
	CodeInvalidParameter = 50002 // bad request parameters
	CodeInternal         = 50004 // server internal error
	CodeTimeout          = 50005 // network timeout
	CodeGroupedLimit     = 51008 // more than 1000 conversations in groups
	CodeGroupNotFound    = 51009 // the conversation group does not exist
	CodeGroupLimit       = 51010 // more than 20 conversation groups
	CodeGroupNameTooLong = 51011 // group name empty or longer than 32 bytes

	// CodeConversationNotFound is 50002, the IM's code for any bad
	// parameter: the IM has none of its own for a conversation missing from
	// the user's list. What tells that case apart is ReasonNotInList.
	//
	// Deprecated: use CodeInvalidParameter with ReasonNotInList.
	CodeConversationNotFound = CodeInvalidParameter
)

// Error is the one error type of the domain. Message is safe to show to staff;
// internal detail stays in Cause and is only logged.
type Error struct {
	Kind    ErrorKind
	Code    int    // IM code, 0 when none applies
	Message string // plain-language, safe to show
	Cause   error  // internal detail, never shown
	// Reason says why, in the domain's one vocabulary ("" when none applies).
	Reason Reason
	// Facts are the values the reason's words quote, by name ("bytes",
	// "max", "char"): handlers fill the reason's label with them, and a
	// refusal's audit event keeps them in its detail.
	Facts map[string]string
	// Conflict carries what changed when Kind is EConflict.
	Conflict *ConflictInfo
}

// ConflictInfo names the change that made a caller's board stale.
type ConflictInfo struct {
	CurrentState  StateToken
	ChangedBy     string
	ChangedAction Action
	Summary       string
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Code != 0 {
		msg = fmt.Sprintf("%s (code %d)", msg, e.Code)
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns a domain error of the given kind and IM code.
func Errorf(kind ErrorKind, code int, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure; its detail is logged, never shown.
func Internal(cause error) *Error {
	return &Error{Kind: EInternal, Code: CodeInternal, Message: "Something went wrong on our side. Nothing was changed.", Cause: cause}
}

// KindOf returns the kind of err, EInternal for errors that are not domain errors
// and "" for nil.
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EInternal
}

// CodeOf returns the IM code carried by err, CodeInternal for foreign errors, 0 for nil.
func CodeOf(err error) int {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// MessageOf returns the message safe to show for err.
func MessageOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != EInternal {
		return e.Message
	}
	return "Something went wrong on our side. Nothing was changed."
}
