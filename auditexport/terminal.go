package auditexport

import (
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/term"
)

// ForTerminal returns w itself unless w is a terminal; then it returns a
// TerminalWriter over w. An export can hold what anyone typed (a user agent,
// a sign-in name) and an escape sequence printed on a terminal can move the
// cursor, recolour, retitle the window or hide lines; the command line
// writes its exports through ForTerminal so that it never sends one raw.
// Redirected to a file or a pipe, the export is exact.
func ForTerminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return NewTerminalWriter(w)
	}
	return w
}

// TerminalWriter passes text through with every control character but the
// line feed (C0, DEL, C1) written as JSON's \u00NN, and every byte that is
// not UTF-8 as \xNN. In NDJSON, whose strings never hold a raw control
// character, a string so escaped still decodes to the same value; a CSV
// export has no control characters left to escape (see CSVText).
type TerminalWriter struct {
	w       io.Writer
	pending []byte // the start of a character split between writes
	buf     []byte
}

// NewTerminalWriter returns a TerminalWriter writing to w.
func NewTerminalWriter(w io.Writer) *TerminalWriter { return &TerminalWriter{w: w} }

// Write escapes p as described on TerminalWriter and writes it; a character
// split across two writes is written, whole, with the second.
func (t *TerminalWriter) Write(p []byte) (int, error) {
	data := p
	if len(t.pending) > 0 {
		data = append(t.pending, p...)
	}
	cut := len(data)
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				cut = i
			}
			break
		}
	}
	const hex = "0123456789abcdef"
	b := t.buf[:0]
	for i := 0; i < cut; {
		r, size := utf8.DecodeRune(data[i:cut])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hex[data[i]>>4], hex[data[i]&0xf])
		case (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f):
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = append(b, data[i:i+size]...)
		}
		i += size
	}
	t.pending = append(t.pending[:0], data[cut:]...)
	t.buf = b
	if _, err := t.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}
