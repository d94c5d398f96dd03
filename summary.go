package convdesk

import (
	"fmt"
	"strconv"
)

// SummaryCode names what an edit did, in the one vocabulary the toasts, the
// history drawer and the audit pages word from the label table
// ("summary.<code>"). A move from "in no group" is an add and a move to it a
// remove, so an edit is announced, recorded and shown with the same words.
type SummaryCode string

// The summary codes, with the values each one uses.
const (
	SummaryCreated SummaryCode = "created" // Name, Count
	SummaryRenamed SummaryCode = "renamed" // FromName, ToName
	SummaryDeleted SummaryCode = "deleted" // Name, Count
	SummaryAdded   SummaryCode = "added"   // Count, ToName
	SummaryRemoved SummaryCode = "removed" // Count, FromName
	SummaryMoved   SummaryCode = "moved"   // Count, FromName, ToName
)

// Summary is what an edit did as a code and values. Its audit event keeps it
// in detail (summary, count, name, from_name, to_name, failed) beside the
// English sentence in Message, which exports and older events carry alone.
type Summary struct {
	Code     SummaryCode
	Count    int    // conversations the edit changed (or, deleted, that the group held)
	Name     string // the group created or deleted
	FromName string // the group conversations left, or a renamed group's old name
	ToName   string // the group conversations joined, or a renamed group's new name
	// Failed is how many conversations could not be changed.
	Failed int
}

// English is the summary as the audit trail's Message says it.
func (s Summary) English() string {
	n := PluralNoun(s.Count, "conversation")
	var msg string
	switch s.Code {
	case SummaryCreated:
		msg = fmt.Sprintf("created %q with %s", s.Name, n)
	case SummaryRenamed:
		msg = fmt.Sprintf("renamed %q to %q", s.FromName, s.ToName)
	case SummaryDeleted:
		msg = fmt.Sprintf("deleted %q, which held %s", s.Name, n)
	case SummaryAdded:
		msg = fmt.Sprintf("added %s to %q", n, s.ToName)
	case SummaryRemoved:
		msg = fmt.Sprintf("removed %s from %q", n, s.FromName)
	case SummaryMoved:
		msg = fmt.Sprintf("moved %s from %q to %q", n, s.FromName, s.ToName)
	}
	if s.Failed > 0 {
		msg += fmt.Sprintf("; %s failed", PluralNoun(s.Failed, "conversation"))
	}
	return msg
}

// Detail is the summary as an event's detail entries.
func (s Summary) Detail() map[string]string {
	if s.Code == "" {
		return nil
	}
	d := map[string]string{"summary": string(s.Code), "count": strconv.Itoa(s.Count)}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("name", s.Name)
	set("from_name", s.FromName)
	set("to_name", s.ToName)
	if s.Failed > 0 {
		d["failed"] = strconv.Itoa(s.Failed)
	}
	return d
}

// SummaryOf reads a summary back from an event's detail; ok is false for an
// event recorded without one (older events, reads, refusals).
func SummaryOf(detail map[string]string) (s Summary, ok bool) {
	code := SummaryCode(detail["summary"])
	switch code {
	case SummaryCreated, SummaryRenamed, SummaryDeleted, SummaryAdded, SummaryRemoved, SummaryMoved:
	default:
		return Summary{}, false
	}
	count, err := strconv.Atoi(detail["count"])
	if err != nil || count < 0 {
		return Summary{}, false
	}
	failed, _ := strconv.Atoi(detail["failed"])
	return Summary{Code: code, Count: count, Name: detail["name"], FromName: detail["from_name"],
		ToName: detail["to_name"], Failed: max(failed, 0)}, true
}

// withSummary returns detail with the summary's entries added.
func withSummary(detail map[string]string, s Summary) map[string]string {
	for k, v := range s.Detail() {
		detail = withDetail(detail, k, v)
	}
	return detail
}
