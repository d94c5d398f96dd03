package tencentim

import (
	"errors"
	"fmt"
	"net/url"
)

// Outcome says what a failed call did to the service's state.
type Outcome int

const (
	// NotApplied: the call certainly changed nothing — the service answered
	// FAIL or a non-zero ErrorCode, or no byte of the request left this
	// machine, or the client refused it before sending.
	NotApplied Outcome = iota + 1
	// OutcomeUnknown: the request was sent but no usable answer came back
	// (timeout, connection reset, non-200 status, unreadable body). A write
	// may or may not have happened; re-read to learn which. Never re-send.
	OutcomeUnknown
)

func (o Outcome) String() string {
	switch o {
	case NotApplied:
		return "not_applied"
	case OutcomeUnknown:
		return "unknown"
	}
	return "invalid"
}

// Kind classifies a failed call.
type Kind int

// The kinds of failure. Refused, NotSent and Invalid are NotApplied; the rest
// are OutcomeUnknown.
const (
	KindRefused    Kind = iota + 1 // answer with ActionStatus FAIL or ErrorCode ≠ 0
	KindNotSent                    // nothing sent: DNS, refused, connect timeout, caller gave up while waiting
	KindInvalid                    // refused by the client before sending (bad arguments)
	KindTimeout                    // sent; no answer within the per-call timeout
	KindConnection                 // sent; the connection broke (reset, EOF) or the caller cancelled
	KindHTTPStatus                 // sent; HTTP status other than 200 (e.g. a 502 from a gateway)
	KindBadAnswer                  // sent; status 200 but the body is not the expected JSON
)

var kindNames = map[Kind]string{
	KindRefused: "refused", KindNotSent: "not_sent", KindInvalid: "invalid",
	KindTimeout: "timeout", KindConnection: "connection", KindHTTPStatus: "http_status",
	KindBadAnswer: "bad_answer",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "invalid_kind"
}

// Outcome returns what a failure of this kind did to the service's state.
func (k Kind) Outcome() Outcome {
	switch k {
	case KindRefused, KindNotSent, KindInvalid:
		return NotApplied
	}
	return OutcomeUnknown
}

// Error is the one error type of the client. It never contains the UserSig or
// the secret key: URLs in transport errors lose their query before they get here.
type Error struct {
	Command string // "service/command", e.g. "recentcontact/create_contact_group"
	Kind    Kind
	Code    int    // IM ErrorCode for KindRefused (may be 0 for a bare FAIL)
	Info    string // IM ErrorInfo for KindRefused; a short reason otherwise
	Status  int    // HTTP status for KindHTTPStatus
	Err     error  // underlying transport error, redacted; nil for answers
}

// Outcome reports whether the call may have changed anything.
func (e *Error) Outcome() Outcome { return e.Kind.Outcome() }

func (e *Error) Error() string {
	switch e.Kind {
	case KindRefused:
		return fmt.Sprintf("tencentim: %s: refused with %d: %s", e.Command, e.Code, e.Info)
	case KindHTTPStatus:
		return fmt.Sprintf("tencentim: %s: HTTP status %d (outcome unknown)", e.Command, e.Status)
	}
	msg := fmt.Sprintf("tencentim: %s: %s (%s)", e.Command, e.Kind, e.Outcome())
	if e.Info != "" {
		msg += ": " + e.Info
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap gives access to the transport error (context.DeadlineExceeded etc.).
func (e *Error) Unwrap() error { return e.Err }

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsOutcomeUnknown reports whether err leaves a write's outcome unknown, so
// the caller must re-read before saying what happened.
func IsOutcomeUnknown(err error) bool {
	e, ok := AsError(err)
	return ok && e.Outcome() == OutcomeUnknown
}

// CodeOf returns the IM ErrorCode of a refused call, or 0.
func CodeOf(err error) int {
	if e, ok := AsError(err); ok && e.Kind == KindRefused {
		return e.Code
	}
	return 0
}

// redact removes the query (sdkappid, identifier, usersig, random) from the
// URL inside a *url.Error, so the error can be logged and wrapped. Other
// errors pass unchanged; the client builds no other error that holds a URL.
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	clean := *ue
	clean.URL = stripQuery(ue.URL)
	if ue == err {
		return &clean
	}
	// The url.Error is wrapped: rebuild the message around the clean copy.
	return fmt.Errorf("%w", &clean)
}

func stripQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url withheld)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}
