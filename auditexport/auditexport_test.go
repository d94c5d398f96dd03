package auditexport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/convdesk/convdesk"
)

// trickyEvents are events whose values need escaping in CSV and JSON.
func trickyEvents() []*convdesk.AuditEvent {
	at := time.Date(2026, 11, 24, 9, 30, 0, 1000, time.UTC)
	a := convdesk.Attribution{
		Actor:     convdesk.Actor{StaffID: 2, Name: "li.wei, agent", Role: convdesk.RoleAgent},
		ClientIP:  "10.0.0.1",
		UserAgent: `Mozilla/5.0 "quoted"`,
		RequestID: "req-1",
		Ticket:    "TCK-12",
	}
	e1 := convdesk.NewAuditEvent(a, convdesk.ActionConversationMove, "alice")
	e1.ID, e1.Time = 7, at
	e1.GroupNames = []string{"产品体验", `say "hi", then go`, "<script>alert(1)</script>"}
	e1.ConversationIDs = []convdesk.ConversationID{"c2c_bob", "group_@TGS#2AB"}
	e1.Before = []convdesk.GroupState{{Name: "产品体验", Exists: true, Conversations: []convdesk.ConversationID{"c2c_bob"}}}
	e1.After = []convdesk.GroupState{{Name: "产品体验", Exists: true}}
	e1.Results = []convdesk.OperationResult{{ConversationID: "c2c_bob"}}
	e1.Message = "line one\nline two, with a comma and a \"quote\" and 产品体验 <b>&</b>"
	e1.Detail = map[string]string{"note": "tab\there", "sep": "\u2028"}
	e1.Duration = 1234 * time.Microsecond
	e1.PrevHash, e1.Hash = strings.Repeat("a", 64), strings.Repeat("b", 64)

	e2 := convdesk.NewAuditEvent(convdesk.Attribution{Actor: convdesk.Actor{Name: "cli:root"}}, convdesk.ActionAuditExport, "")
	e2.ID, e2.Time = 8, at.Add(time.Second)
	e2.Outcome, e2.ResultCode = convdesk.OutcomeFailed, 50002
	e2.Message = " leading space, trailing\r\n"
	return []*convdesk.AuditEvent{e1, e2}
}

func export(t *testing.T, f Format, evs []*convdesk.AuditEvent) string {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		r := RecordOf(e)
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := w.Rows(); n != int64(len(evs)) {
		t.Fatalf("wrote %d rows, want %d", n, len(evs))
	}
	return out.String()
}

// wantValues are an event's exported values as text, column by column.
func wantValues(t *testing.T, e *convdesk.AuditEvent) map[string]string {
	t.Helper()
	j := func(v any, empty string) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == "null" {
			return empty
		}
		return string(b)
	}
	return map[string]string{
		"id": "7", "time": e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"actor": e.ActorName, "actor_role": string(e.ActorRole), "client_ip": e.ClientIP, "user_agent": e.UserAgent,
		"request_id": e.RequestID, "client_request_id": e.ClientRequestID, "action": string(e.Action),
		"subject_user": e.SubjectUser, "group_names": j(e.GroupNames, "[]"), "conversation_ids": j(e.ConversationIDs, "[]"),
		"ticket": e.Ticket, "outcome": string(e.Outcome), "result_code": "0", "results": j(e.Results, "[]"),
		"message": e.Message, "before": j(e.Before, "[]"), "after": j(e.After, "[]"), "detail": j(e.Detail, "{}"),
		"duration_us": "1234", "prev_hash": e.PrevHash, "hash": e.Hash,
	}
}

func TestWriteCSV(t *testing.T) {
	evs := trickyEvents()
	out := export(t, CSV, evs)
	if strings.HasPrefix(out, "\uFEFF") {
		t.Fatal("CSV starts with a byte-order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v\n%s", err, out)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want header and 2 rows", len(recs))
	}
	if !reflect.DeepEqual(recs[0], Columns) {
		t.Fatalf("header = %q", recs[0])
	}
	t.Run("ExactValues", func(t *testing.T) {
		// Exact but for the control characters CSV shows as \xNN.
		want := wantValues(t, evs[0])
		for i, col := range Columns {
			if got := recs[1][i]; got != CSVText(want[col]) {
				t.Errorf("%s = %q, want %q", col, got, CSVText(want[col]))
			}
		}
	})
	t.Run("JSONColumnsDecode", func(t *testing.T) {
		var names []string
		if err := json.Unmarshal([]byte(recs[1][10]), &names); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(names, evs[0].GroupNames) {
			t.Fatalf("group_names = %q, want %q", names, evs[0].GroupNames)
		}
	})
	t.Run("EmptyListsAndDetail", func(t *testing.T) {
		row := recs[2]
		for i, col := range Columns {
			switch col {
			case "group_names", "conversation_ids", "results", "before", "after":
				if row[i] != "[]" {
					t.Errorf("%s = %q, want []", col, row[i])
				}
			case "detail":
				if row[i] != "{}" {
					t.Errorf("detail = %q, want {}", row[i])
				}
			}
		}
		// Control characters are shown, not written raw.
		if got, want := row[16], ` leading space, trailing\x0d\x0a`; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
		if row[13] != "failed" || row[14] != "50002" || row[3] != "" {
			t.Errorf("outcome, code, role = %q %q %q", row[13], row[14], row[3])
		}
	})
	t.Run("HeaderOnlyWhenEmpty", func(t *testing.T) {
		if got, want := export(t, CSV, nil), strings.Join(Columns, ",")+"\n"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestWriteNDJSON(t *testing.T) {
	evs := trickyEvents()
	out := export(t, NDJSON, evs)
	if !strings.HasSuffix(out, "\n") {
		t.Fatal("the last line does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out)
	}
	for i, line := range lines {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		if len(obj) != len(Columns) {
			t.Fatalf("line %d has %d keys, want %d", i+1, len(obj), len(Columns))
		}
		// Keys come in column order.
		dec := json.NewDecoder(strings.NewReader(line))
		dec.Token()
		for _, col := range Columns {
			tok, err := dec.Token()
			if err != nil || tok != col {
				t.Fatalf("line %d: key %v (%v), want %q", i+1, tok, err, col)
			}
			var skip json.RawMessage
			dec.Decode(&skip)
		}
	}
	t.Run("ExactValues", func(t *testing.T) {
		want := wantValues(t, evs[0])
		var obj map[string]json.RawMessage
		json.Unmarshal([]byte(lines[0]), &obj)
		for _, col := range Columns {
			var got string
			switch col {
			case "id", "result_code", "duration_us", "group_names", "conversation_ids", "results", "before", "after", "detail":
				var v any
				if err := json.Unmarshal(obj[col], &v); err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(v)
				var w any
				json.Unmarshal([]byte(want[col]), &w)
				wb, _ := json.Marshal(w)
				got, want[col] = string(b), string(wb)
			default:
				if err := json.Unmarshal(obj[col], &got); err != nil {
					t.Fatalf("%s: %v", col, err)
				}
			}
			if got != want[col] {
				t.Errorf("%s = %q, want %q", col, got, want[col])
			}
		}
	})
	t.Run("ScriptIsInert", func(t *testing.T) {
		if strings.Contains(out, "<script>") || strings.Contains(out, "\u2028") {
			t.Fatal("markup or a line separator went out unescaped")
		}
	})
	t.Run("AlteredJSONColumnStaysValid", func(t *testing.T) {
		r := RecordOf(evs[0])
		r.GroupNames = `["broken`
		var out bytes.Buffer
		w, _ := NewWriter(&out, NDJSON)
		w.Write(&r)
		w.Flush()
		var obj struct {
			GroupNames string `json:"group_names"`
		}
		if err := json.Unmarshal(out.Bytes(), &obj); err != nil || obj.GroupNames != `["broken` {
			t.Fatalf("got %+v, %v from %s", obj, err, out.String())
		}
	})
	t.Run("EmptyWhenNoRows", func(t *testing.T) {
		if got := export(t, NDJSON, nil); got != "" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"csv", "ndjson"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("%s: %v %v", s, f, err)
		}
	}
	if _, err := ParseFormat("xlsx"); convdesk.KindOf(err) != convdesk.EInvalid {
		t.Errorf("xlsx: %v", err)
	}
	if _, err := NewWriter(&bytes.Buffer{}, "xml"); err == nil {
		t.Error("NewWriter took an unknown format")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterReportsWriteErrors(t *testing.T) {
	evs := trickyEvents()
	w, err := NewWriter(bufio.NewWriterSize(failingWriter{}, 16), NDJSON)
	if err != nil {
		t.Fatal(err)
	}
	r := RecordOf(evs[0])
	err = w.Write(&r)
	if err == nil {
		err = w.Flush()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestAppendTimeMatchesLayout(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 24, 9, 30, 0, 1000, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 999999000, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("CST", 8*3600)),
		time.Unix(0, 0),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := at.UTC().Format(TimeLayout)
		if got := string(appendTime(nil, at.UnixMicro())); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", at, got, want)
		}
	}
}

func TestPartsMakeTheWhole(t *testing.T) {
	evs := trickyEvents()
	for _, f := range []Format{CSV, NDJSON} {
		whole := export(t, f, evs)
		var parts bytes.Buffer
		parts.Write(Header(f))
		for _, e := range evs {
			var part bytes.Buffer
			w, err := NewPartWriter(&part, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteEvent(e); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			parts.Write(part.Bytes())
		}
		if parts.String() != whole {
			t.Errorf("%s: parts make\n%s\nwant\n%s", f, parts.String(), whole)
		}
	}
}

// hostileEvent holds what an attacker could type into an export: formulas
// for a spreadsheet and escape sequences for a terminal.
func hostileEvent() *convdesk.AuditEvent {
	e := convdesk.NewAuditEvent(convdesk.Attribution{
		Actor:           convdesk.Actor{Name: `=HYPERLINK("http://evil.example","open")`},
		UserAgent:       "\x1b]0;pwned\x07\x1b[2J",
		ClientRequestID: "\tcmd",
		Ticket:          "@SUM(1+1)",
	}, convdesk.ActionAuthLoginFailed, "-2+3")
	e.ID, e.Time = 9, time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	e.Message = "+1 \u009b31m red \xff\x9b bytes\rover"
	e.GroupNames = []string{"C1 \u009b2J", "DEL \x7f"}
	e.Detail = map[string]string{"ua": "\x1b[31m"}
	return e
}

// TestCSVIsSafeToOpen: formulas are prefixed with ' and control characters
// are shown as \xNN (\u00NN in JSON columns, which stay valid JSON).
func TestCSVIsSafeToOpen(t *testing.T) {
	e := hostileEvent()
	out := export(t, CSV, []*convdesk.AuditEvent{e})
	for _, c := range []byte{0x1b, 0x07, 0x7f, '\r'} {
		if strings.IndexByte(out, c) >= 0 {
			t.Errorf("the CSV holds the raw byte %#x", c)
		}
	}
	if strings.Contains(out, "\u009b") || !utf8.ValidString(out) {
		t.Error("the CSV holds a raw C1 control or bytes that are not UTF-8")
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]string{}
	for i, col := range Columns {
		row[col] = recs[1][i]
	}
	for col, want := range map[string]string{
		"actor":             `'=HYPERLINK("http://evil.example","open")`,
		"user_agent":        `\x1b]0;pwned\x07\x1b[2J`,
		"client_request_id": `'\x09cmd`,
		"ticket":            "'@SUM(1+1)",
		"subject_user":      "'-2+3",
		"message":           `'+1 \x9b31m red \xff\x9b bytes\x0dover`,
		"group_names":       `["C1 \u009b2J","DEL \u007f"]`,
		"detail":            `{"ua":"\u001b[31m"}`,
		"action":            "auth.login_failed",
	} {
		if row[col] != want {
			t.Errorf("%s = %q, want %q", col, row[col], want)
		}
	}
	var names []string
	if err := json.Unmarshal([]byte(row["group_names"]), &names); err != nil || !reflect.DeepEqual(names, e.GroupNames) {
		t.Errorf("group_names decodes to %q (%v), want %q", names, err, e.GroupNames)
	}
}

// TestNDJSONStaysExact: NDJSON carries every value exactly as recorded.
func TestNDJSONStaysExact(t *testing.T) {
	e := hostileEvent()
	out := export(t, NDJSON, []*convdesk.AuditEvent{e})
	if strings.IndexByte(out, 0x1b) >= 0 {
		t.Error("raw ESC in NDJSON (JSON escapes it)")
	}
	var got struct {
		Actor      string            `json:"actor"`
		UserAgent  string            `json:"user_agent"`
		Ticket     string            `json:"ticket"`
		GroupNames []string          `json:"group_names"`
		Detail     map[string]string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Actor != e.ActorName || got.UserAgent != e.UserAgent || got.Ticket != e.Ticket ||
		!reflect.DeepEqual(got.GroupNames, e.GroupNames) || !reflect.DeepEqual(got.Detail, e.Detail) {
		t.Fatalf("got %+v", got)
	}
}

// TestTerminalWriter: an export shown on a terminal carries no control
// character but the line feed, even when a character is split between
// writes, and NDJSON so escaped decodes to the same values.
func TestTerminalWriter(t *testing.T) {
	e := hostileEvent()
	e.Message = "ok"
	src := export(t, NDJSON, []*convdesk.AuditEvent{e}) + "tail \x1b[0m \xe4\xba"
	var out bytes.Buffer
	tw := NewTerminalWriter(&out)
	for i := 0; i < len(src); i++ { // one byte at a time: every split
		if _, err := tw.Write([]byte{src[i]}); err != nil {
			t.Fatal(err)
		}
	}
	got := out.String()
	for _, r := range got {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			t.Fatalf("raw control %U in %q", r, got)
		}
	}
	line, tail, _ := strings.Cut(got, "\n")
	if tail != `tail \u001b[0m ` {
		t.Errorf("tail %q", tail)
	}
	var dec struct {
		GroupNames []string `json:"group_names"`
		UserAgent  string   `json:"user_agent"`
	}
	if err := json.Unmarshal([]byte(line), &dec); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if !reflect.DeepEqual(dec.GroupNames, e.GroupNames) || dec.UserAgent != e.UserAgent {
		t.Errorf("decoded %+v", dec)
	}
	if ForTerminal(&out) != io.Writer(&out) {
		t.Error("ForTerminal wrapped a writer that is not a terminal")
	}
}
