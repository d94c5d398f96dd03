// Package auditexport writes audit events as CSV or NDJSON, streaming, with
// one stable column set shared by the console's export and the command line.
//
// The columns, in order (CSV header and NDJSON keys alike):
//
//	id                 event number, an integer
//	time               when it was recorded: RFC 3339, UTC, always six fractional digits
//	                   (2026-11-24T09:30:00.000001Z)
//	actor              staff member's name as of then ("cli:<os user>" for the command line)
//	actor_role         viewer, agent, auditor or admin ("" for the command line)
//	client_ip          client address
//	user_agent         client's User-Agent
//	request_id         the server's request ID
//	client_request_id  the client's own X-Request-Id, if it sent one
//	action             namespaced action, such as group.rename
//	subject_user       the end user whose data was read or changed ("" when none)
//	group_names        JSON array of strings
//	conversation_ids   JSON array of strings
//	ticket             ticket or reason given
//	outcome            ok, partial, failed, pending or unknown
//	result_code        integer, 0 when ok
//	results            JSON array of per-conversation results
//	message            what was refused or went wrong, or a summary
//	before             JSON array of group states before the change
//	after              JSON array of group states after it
//	detail             JSON object of action-specific strings
//	duration_us        how long it took, in microseconds
//	prev_hash          hex SHA-256 of the previous event ("" for the first)
//	hash               hex SHA-256 of this event
//
// An empty list is [] and an empty detail {}, never null. In CSV every value is
// a text field (UTF-8, no byte-order mark, RFC 4180 quoting via encoding/csv,
// lines ending in \n), the JSON columns holding JSON text. In NDJSON each event
// is one JSON object on one line, id, result_code and duration_us as numbers
// and the JSON columns as JSON values.
//
// CSV is made to be opened in a spreadsheet and read, so what staff, end users
// or clients typed cannot act there (see CSVText): a text value that starts
// with =, +, -, @, a tab or a carriage return gets a leading ', which makes a
// spreadsheet show it as text instead of running it as a formula; and control
// characters (C0, DEL, C1) and bytes that are not UTF-8 are written as visible
// \xNN (ESC as \x1b, a line break as \x0a), in the JSON columns as JSON's
// \u00NN. So a CSV value is not always byte for byte what was recorded.
// NDJSON is the exact record: every value as stored (JSON escapes its control
// characters), to be read by programs and checked against the hashes.
package auditexport

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/jsontext"
)

// Columns is the stable column set, in order.
var Columns = []string{
	"id", "time", "actor", "actor_role", "client_ip", "user_agent", "request_id", "client_request_id",
	"action", "subject_user", "group_names", "conversation_ids", "ticket", "outcome", "result_code",
	"results", "message", "before", "after", "detail", "duration_us", "prev_hash", "hash",
}

// TimeLayout is how the time column is written.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Format is an export format.
type Format string

// The export formats.
const (
	CSV    Format = "csv"
	NDJSON Format = "ndjson"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case CSV, NDJSON:
		return f, nil
	}
	return "", convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "%q is not an export format; use csv or ndjson.", s)
}

// ContentType is the MIME type of an export in f.
func (f Format) ContentType() string {
	if f == NDJSON {
		return "application/x-ndjson; charset=utf-8"
	}
	return "text/csv; charset=utf-8"
}

// Record is one event in its exported form. The JSON fields hold JSON text as
// stored, so an export writes them through without decoding them; a database
// adapter fills a Record straight from its columns.
type Record struct {
	ID              int64
	TimeMicros      int64 // Unix microseconds, UTC
	Actor           string
	ActorRole       string
	ClientIP        string
	UserAgent       string
	RequestID       string
	ClientRequestID string
	Action          string
	SubjectUser     string
	GroupNames      string // JSON array
	ConversationIDs string // JSON array
	Ticket          string
	Outcome         string
	ResultCode      int64
	Results         string // JSON array
	Message         string
	Before          string // JSON array
	After           string // JSON array
	Detail          string // JSON object
	DurationMicros  int64
	PrevHash        string
	Hash            string
}

// RecordOf returns the exported form of e.
func RecordOf(e *convdesk.AuditEvent) Record {
	return Record{
		ID: e.ID, TimeMicros: e.Time.UnixMicro(), Actor: e.ActorName, ActorRole: string(e.ActorRole),
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID,
		Action: string(e.Action), SubjectUser: e.SubjectUser, GroupNames: jsonText(e.GroupNames),
		ConversationIDs: jsonText(e.ConversationIDs), Ticket: e.Ticket, Outcome: string(e.Outcome),
		ResultCode: int64(e.ResultCode), Results: jsonText(e.Results), Message: e.Message,
		Before: jsonText(e.Before), After: jsonText(e.After), Detail: jsonText(e.Detail),
		DurationMicros: e.Duration.Microseconds(), PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Every field of an event is a plain value; Marshal cannot fail on them.
		panic("auditexport: encode: " + err.Error())
	}
	return string(b)
}

// emptyArray and emptyObject replace a stored null.
func emptyArray(s string) string {
	if s == "null" || s == "" {
		return "[]"
	}
	return s
}

func emptyObject(s string) string {
	if s == "null" || s == "" {
		return "{}"
	}
	return s
}

// Writer writes records in one format. Call Flush at the end.
type Writer struct {
	format Format
	out    io.Writer     // where lines go
	buf    *bufio.Writer // out, when the Writer buffers; nil otherwise
	csv    *csv.Writer
	fields []string
	line   []byte
	rows   int64
}

// writerBuffer is the output buffer's size: large enough that a streamed
// export makes few writes.
const writerBuffer = 64 << 10

// NewWriter returns a buffered writer of a whole export in f to w: a CSV
// export starts with the header row.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	buf := bufio.NewWriterSize(w, writerBuffer)
	ew, err := newWriter(buf, f)
	if err != nil {
		return nil, err
	}
	ew.buf = buf
	if _, err := buf.Write(Header(f)); err != nil {
		return nil, err
	}
	return ew, nil
}

// NewPartWriter returns a writer of part of an export in f: its records
// only, without the header. Parts written in order after Header(f) make a
// whole export, so that parts can be encoded in parallel. It does not buffer:
// give it a buffer, such as a bytes.Buffer.
func NewPartWriter(w io.Writer, f Format) (*Writer, error) {
	return newWriter(w, f)
}

func newWriter(w io.Writer, f Format) (*Writer, error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return nil, err
	}
	ew := &Writer{format: f, out: w}
	if f == CSV {
		ew.csv = csv.NewWriter(w)
		ew.fields = make([]string, len(Columns))
	}
	return ew, nil
}

// Header returns what an export in f starts with: the header row for CSV,
// nothing for NDJSON.
func Header(f Format) []byte {
	if f != CSV {
		return nil
	}
	return []byte(strings.Join(Columns, ",") + "\n")
}

// Rows returns how many records were written.
func (w *Writer) Rows() int64 { return w.rows }

// Write writes one record.
func (w *Writer) Write(r *Record) error {
	w.rows++
	if w.format == CSV {
		return w.writeCSV(r)
	}
	return w.writeNDJSON(r)
}

// WriteEvent writes one event.
func (w *Writer) WriteEvent(e *convdesk.AuditEvent) error {
	r := RecordOf(e)
	return w.Write(&r)
}

// Flush writes out what is buffered and reports any earlier write error.
func (w *Writer) Flush() error {
	if w.csv != nil {
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
			return err
		}
	}
	if w.buf != nil {
		return w.buf.Flush()
	}
	return nil
}

func (w *Writer) writeCSV(r *Record) error {
	f := w.fields
	t, j := CSVText, csvJSON
	f[0] = strconv.FormatInt(r.ID, 10)
	f[1] = formatTime(r.TimeMicros)
	f[2], f[3], f[4], f[5], f[6], f[7] = t(r.Actor), t(r.ActorRole), t(r.ClientIP), t(r.UserAgent), t(r.RequestID), t(r.ClientRequestID)
	f[8], f[9] = t(r.Action), t(r.SubjectUser)
	f[10], f[11] = j(emptyArray(r.GroupNames)), j(emptyArray(r.ConversationIDs))
	f[12], f[13] = t(r.Ticket), t(r.Outcome)
	f[14] = strconv.FormatInt(r.ResultCode, 10)
	f[15], f[16] = j(emptyArray(r.Results)), t(r.Message)
	f[17], f[18], f[19] = j(emptyArray(r.Before)), j(emptyArray(r.After)), j(emptyObject(r.Detail))
	f[20] = strconv.FormatInt(r.DurationMicros, 10)
	f[21], f[22] = t(r.PrevHash), t(r.Hash)
	return w.csv.Write(f)
}

// CSVText returns s as a CSV export writes a text value: with a leading '
// when it starts with =, +, -, @, a tab or a carriage return (which a
// spreadsheet would take for a formula: =HYPERLINK(…), @SUM(…)), and with
// every control character (C0, DEL, C1) and every byte that is not UTF-8
// written as a visible \xNN, so that no escape sequence reaches a terminal
// and no line break hides what follows. Text without any of these is
// returned as it is, without copying.
func CSVText(s string) string {
	formula := s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
	if !formula && !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	if formula {
		b.WriteByte('\'')
	}
	appendEscaped(&b, s, false)
	return b.String()
}

// csvJSON is CSVText for the JSON columns: as long as the text is valid
// JSON, control characters (which JSON can only hold as DEL and C1, its C0
// being escaped already) become JSON's own \u00NN escape, so the value
// stays valid JSON and decodes to the same strings. Text that is not JSON
// (a column altered behind the triggers) is treated as any text.
func csvJSON(s string) string {
	if !needsEscape(s) {
		return s
	}
	if !validJSON(s) {
		return CSVText(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	appendEscaped(&b, s, true)
	return b.String()
}

// needsEscape reports whether s holds a control character or bytes that are
// not UTF-8. It looks at bytes only, as the export's hot path must.
func needsEscape(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f: // C1, U+0080–U+009F
			return true
		case c >= 0x80:
			ascii = false
		}
	}
	return !ascii && !utf8.ValidString(s)
}

// appendEscaped writes s to b with control characters and bytes that are
// not UTF-8 escaped: as \xNN, or inside JSON text (json) as \u00NN for the
// characters (bytes that are not UTF-8 have no JSON escape and stay \xNN).
func appendEscaped(b *strings.Builder, s string, json bool) {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			if json {
				b.WriteString(`\u00`)
			} else {
				b.WriteString(`\x`)
			}
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

func formatTime(micros int64) string {
	var buf [32]byte
	return string(appendTime(buf[:0], micros))
}

// appendTime appends micros as TimeLayout does, without time.Format's
// general layout parsing, which costs more than the rest of a CSV row.
func appendTime(b []byte, micros int64) []byte {
	t := time.UnixMicro(micros).UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends n (>= 0) zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var d [8]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:width]...)
}

// writeNDJSON builds the line by hand: encoding/json would allocate a map or a
// struct per event and re-encode JSON columns that are already JSON.
func (w *Writer) writeNDJSON(r *Record) error {
	b := w.line[:0]
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"time":"`...)
	b = appendTime(b, r.TimeMicros)
	b = append(b, '"')
	b = appendStringField(b, "actor", r.Actor)
	b = appendStringField(b, "actor_role", r.ActorRole)
	b = appendStringField(b, "client_ip", r.ClientIP)
	b = appendStringField(b, "user_agent", r.UserAgent)
	b = appendStringField(b, "request_id", r.RequestID)
	b = appendStringField(b, "client_request_id", r.ClientRequestID)
	b = appendStringField(b, "action", r.Action)
	b = appendStringField(b, "subject_user", r.SubjectUser)
	b = appendJSONField(b, "group_names", emptyArray(r.GroupNames))
	b = appendJSONField(b, "conversation_ids", emptyArray(r.ConversationIDs))
	b = appendStringField(b, "ticket", r.Ticket)
	b = appendStringField(b, "outcome", r.Outcome)
	b = append(b, `,"result_code":`...)
	b = strconv.AppendInt(b, r.ResultCode, 10)
	b = appendJSONField(b, "results", emptyArray(r.Results))
	b = appendStringField(b, "message", r.Message)
	b = appendJSONField(b, "before", emptyArray(r.Before))
	b = appendJSONField(b, "after", emptyArray(r.After))
	b = appendJSONField(b, "detail", emptyObject(r.Detail))
	b = append(b, `,"duration_us":`...)
	b = strconv.AppendInt(b, r.DurationMicros, 10)
	b = appendStringField(b, "prev_hash", r.PrevHash)
	b = appendStringField(b, "hash", r.Hash)
	b = append(b, "}\n"...)
	w.line = b
	_, err := w.out.Write(b)
	return err
}

func appendStringField(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return jsontext.AppendString(b, val)
}

// appendJSONField writes raw JSON text through. Text that is not valid JSON (a
// column altered behind the triggers, say) is written as a JSON string instead,
// so every line stays one valid JSON object; the verifier is what reports
// the alteration.
func appendJSONField(b []byte, key, raw string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	if !validJSON(raw) {
		return jsontext.AppendString(b, raw)
	}
	return append(b, raw...)
}

// validJSON is json.Valid without converting the string.
func validJSON(s string) bool {
	return json.Valid([]byte(s))
}
