package convdesk

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// ActionGroups names sets of actions the audit page filters by at once.
var ActionGroups = map[string][]Action{
	// edits: every change to an end user's groups, convdesk's own and
	// those found made outside it (group.observed).
	"edits":   append(slices.Clone(EditActions), ActionGroupObserved),
	"reads":   {ActionBoardView, ActionUserSearch, ActionConversationReveal},
	"signins": {ActionAuthLogin, ActionAuthLoginFailed, ActionAuthLogout, ActionAuthLocked},
	"staff":   {ActionStaffCreate, ActionStaffRole, ActionStaffDisable, ActionStaffEnable, ActionStaffPassword},
	"audit":   {ActionAuditExport, ActionAuditVerify, ActionAuditView, ActionAuditWitnessStarted, ActionAuditBreakAccepted},
	// undo: revert and restore requests refused as a whole (the steps of
	// one that ran are edits, each with detail.reverts).
	"undo": {ActionBoardRevert, ActionBoardRestore},
}

// ActionGroupNames lists the keys of ActionGroups in display order.
var ActionGroupNames = []string{"edits", "undo", "reads", "signins", "staff", "audit"}

// Outcomes lists the outcomes an event can record.
var Outcomes = []Outcome{OutcomeOK, OutcomePartial, OutcomeFailed, OutcomePending, OutcomeUnknown}

// AuditFilter is the audit page's filter, also written as one line of query
// syntax such as
//
//	actor:agent user:alice action:group.rename outcome:failed after:2026-11-01 before:2026-11-25 ticket:TCK-12 产品
//
// action: takes an action name (board.revert, board.restore, group.observed…)
// or a group of them: edits, undo, reads, signins, staff, audit.
//
// Dates are calendar days in the staff member's time zone: after: includes its
// day, before: excludes its day. Words without a key are free text. A value
// with spaces, quotes or backslashes (user IDs may hold any printable ASCII)
// is written in double quotes, with \" and \\ for a quote and a backslash
// inside: user:"a b", user:"say \"hi\"".
type AuditFilter struct {
	Actor   string
	User    string
	Action  string // an action name or an ActionGroups key
	Outcome Outcome
	After   string // YYYY-MM-DD
	Before  string // YYYY-MM-DD
	Ticket  string
	Text    string
}

const dateLayout = "2006-01-02"

// MaxAuditFilterBytes bounds the query line.
const MaxAuditFilterBytes = 512

// ParseAuditFilter parses the query syntax.
func ParseAuditFilter(q string) (AuditFilter, error) {
	var f AuditFilter
	if len(q) > MaxAuditFilterBytes || !utf8.ValidString(q) {
		return f, Errorf(EInvalid, CodeInvalidParameter, "The query is too long or not valid text.")
	}
	words, err := splitQuery(q)
	if err != nil {
		return f, err
	}
	var text []string
	for _, w := range words {
		key, val, ok := strings.Cut(w.text, ":")
		if !ok || w.quotedKey {
			text = append(text, w.text)
			continue
		}
		set := func(dst *string) error {
			if *dst != "" {
				return Errorf(EInvalid, CodeInvalidParameter, "%q appears twice in the query.", key+":")
			}
			if val == "" {
				return Errorf(EInvalid, CodeInvalidParameter, "%q needs a value, as in %s.", key+":", key+":something")
			}
			*dst = val
			return nil
		}
		switch key {
		case "actor":
			err = set(&f.Actor)
		case "user":
			err = set(&f.User)
		case "ticket":
			err = set(&f.Ticket)
		case "action":
			if err = set(&f.Action); err == nil && ActionGroups[val] == nil && !Action(val).Valid() {
				err = Errorf(EInvalid, CodeInvalidParameter, "%q is not an action; use a name such as group.rename or one of edits, undo, reads, signins, staff, audit.", BoundText(val, maxEchoedBytes))
			}
		case "outcome":
			var s string
			if err = set(&s); err == nil {
				f.Outcome = Outcome(s)
				if !validOutcome(f.Outcome) {
					err = Errorf(EInvalid, CodeInvalidParameter, "%q is not an outcome; use ok, partial, failed, pending or unknown.", BoundText(s, maxEchoedBytes))
				}
			}
		case "after", "before":
			dst := &f.After
			if key == "before" {
				dst = &f.Before
			}
			if err = set(dst); err == nil {
				if _, perr := time.Parse(dateLayout, val); perr != nil {
					err = Errorf(EInvalid, CodeInvalidParameter, "%q is not a date; write %s:YYYY-MM-DD.", BoundText(val, maxEchoedBytes), key)
				}
			}
		default:
			text = append(text, w.text)
		}
		if err != nil {
			return AuditFilter{}, err
		}
	}
	f.Text = strings.Join(text, " ")
	return f, nil
}

func validOutcome(o Outcome) bool { return slices.Contains(Outcomes, o) }

type queryWord struct {
	text      string
	quotedKey bool // the colon was inside quotes: free text, not a key
}

// splitQuery splits on spaces, keeping double-quoted runs together; inside
// quotes a backslash takes the next quote or backslash literally.
func splitQuery(q string) ([]queryWord, error) {
	var out []queryWord
	var b strings.Builder
	inQuote, started, colonQuoted, escaped := false, false, false, false
	flush := func() {
		if started {
			out = append(out, queryWord{text: b.String(), quotedKey: colonQuoted})
		}
		b.Reset()
		started, colonQuoted = false, false
	}
	for _, r := range q {
		switch {
		case escaped:
			escaped = false
			if r != '"' && r != '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case inQuote && r == '\\':
			escaped = true
		case r == '"':
			inQuote = !inQuote
			started = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\u3000'):
			flush()
		default:
			if r == ':' && inQuote && !strings.Contains(b.String(), ":") {
				colonQuoted = true
			}
			b.WriteRune(r)
			started = true
		}
	}
	if inQuote || escaped {
		return nil, Errorf(EInvalid, CodeInvalidParameter, "A quote in the query is not closed.")
	}
	flush()
	return out, nil
}

// String writes the filter in query syntax; ParseAuditFilter reads it back.
func (f AuditFilter) String() string {
	var parts []string
	add := func(key, val string) {
		if val != "" {
			parts = append(parts, key+":"+quoteIfNeeded(val))
		}
	}
	add("actor", f.Actor)
	add("user", f.User)
	add("action", f.Action)
	add("outcome", string(f.Outcome))
	add("after", f.After)
	add("before", f.Before)
	add("ticket", f.Ticket)
	if f.Text != "" {
		for _, w := range strings.Fields(f.Text) {
			if strings.Contains(w, ":") {
				w = quote(w)
			} else {
				w = quoteIfNeeded(w)
			}
			parts = append(parts, w)
		}
	}
	return strings.Join(parts, " ")
}

// quoteIfNeeded quotes v when it would not read back as one word as it is.
func quoteIfNeeded(v string) string {
	if strings.ContainsAny(v, " \t\u3000\"\\") {
		return quote(v)
	}
	return v
}

// quote writes v in double quotes, escaping quotes and backslashes.
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// IsZero reports whether the filter selects everything.
func (f AuditFilter) IsZero() bool { return f == AuditFilter{} }

// Query resolves the filter to an AuditQuery, reading dates in loc.
func (f AuditFilter) Query(loc *time.Location) AuditQuery {
	if loc == nil {
		loc = time.UTC
	}
	q := AuditQuery{SubjectUser: f.User, Actor: f.Actor, Outcome: f.Outcome, Ticket: f.Ticket, Text: f.Text}
	if f.Action != "" {
		if g, ok := ActionGroups[f.Action]; ok {
			q.Actions = append([]Action(nil), g...)
		} else {
			q.Actions = []Action{Action(f.Action)}
		}
		sort.Slice(q.Actions, func(i, j int) bool { return q.Actions[i] < q.Actions[j] })
	}
	if d, err := time.ParseInLocation(dateLayout, f.After, loc); err == nil {
		q.After = d
	}
	if d, err := time.ParseInLocation(dateLayout, f.Before, loc); err == nil {
		q.Before = d
	}
	return q
}
