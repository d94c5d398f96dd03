// Package witness keeps the audit trail's witness: a copy of every signed
// checkpoint in plain text files outside the database, appended to and never
// rewritten, so that someone who can write the database but not the witness
// cannot drop or replace checkpoints unnoticed.
//
// The witness named PATH is a sequence of daily files PATH.YYYY-MM-DD (the
// UTC day of the first checkpoint written to each), read in name order, plus
// PATH.lock, which writers lock so that a checkpoint's database commit and
// its line keep one order across processes. Each line is one checkpoint:
//
//	v1 <id> <event id> <event hash> <time> <previous MAC or -> <MAC>
//
// with the time in UTC to the microsecond (2006-01-02T15:04:05.000000Z). The
// first line of a day's file carries, as its previous MAC, the last MAC of
// the file before, so the MACs chain across files.
//
// This package does file input and output only; what a line must match is
// the verifier's business.
package witness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convdesk/convdesk"
)

// timeLayout is how a line writes its checkpoint's time: fixed width, UTC,
// microseconds (the precision the MAC covers).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// dayLayout names a daily file.
const dayLayout = "2006-01-02"

// lineVersion starts every line.
const lineVersion = "v1"

// tailRead is how much of a file's end Last reads: many lines' worth.
const tailRead = 16 << 10

// File is the witness at a path (see the package documentation for the
// files it stands for).
type File struct {
	path string
}

// New returns the witness named path. Nothing is created until the first
// Append or Lock.
func New(path string) *File { return &File{path: path} }

// Path returns the witness's name, the prefix of its files.
func (w *File) Path() string { return w.path }

// Lock takes the witness's exclusive lock (flock on PATH.lock), waiting for
// another process that holds it. The caller must call unlock.
func (w *File) Lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(w.path), 0o750); err != nil {
		return nil, fmt.Errorf("witness folder: %w", err)
	}
	f, err := os.OpenFile(w.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("witness lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("witness lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Files returns the witness's daily files, oldest first; none when the
// witness does not exist yet.
func (w *File) Files() ([]string, error) {
	dir, base := filepath.Split(w.path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	var out []string
	for _, e := range entries {
		day, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if _, err := time.Parse(dayLayout, day); err != nil || len(day) != len(dayLayout) {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Strings(out) // fixed-width dates sort in time order
	return out, nil
}

// FileFor returns the daily file a checkpoint made at t goes to.
func (w *File) FileFor(t time.Time) string {
	return w.path + "." + t.UTC().Format(dayLayout)
}

// FormatLine returns the witness line of cp, newline included.
func FormatLine(cp convdesk.Checkpoint) string {
	prev := cp.PrevMAC
	if prev == "" {
		prev = "-"
	}
	return fmt.Sprintf("%s %d %d %s %s %s %s\n", lineVersion, cp.ID, cp.EventID, cp.EventHash,
		cp.At.UTC().Format(timeLayout), prev, cp.MAC)
}

// ParseLine reads one witness line (without its newline).
func ParseLine(line string) (convdesk.Checkpoint, error) {
	var cp convdesk.Checkpoint
	f := strings.Split(line, " ")
	if len(f) != 7 || f[0] != lineVersion {
		return cp, errors.New("not a v1 witness line")
	}
	var err error
	if cp.ID, err = strconv.ParseInt(f[1], 10, 64); err != nil || cp.ID <= 0 {
		return cp, errors.New("bad checkpoint id")
	}
	if cp.EventID, err = strconv.ParseInt(f[2], 10, 64); err != nil || cp.EventID <= 0 {
		return cp, errors.New("bad event id")
	}
	if cp.At, err = time.Parse(timeLayout, f[4]); err != nil {
		return cp, errors.New("bad time")
	}
	cp.EventHash, cp.PrevMAC, cp.MAC = f[3], f[5], f[6]
	if cp.PrevMAC == "-" {
		cp.PrevMAC = ""
	}
	if !isHex(cp.EventHash) || !isHex(cp.MAC) || cp.PrevMAC != "" && !isHex(cp.PrevMAC) {
		return cp, errors.New("bad hash or MAC")
	}
	return cp, nil
}

func isHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Tail is what the end of the witness holds.
type Tail struct {
	// Last is the last complete line's checkpoint, when Found.
	Last  convdesk.Checkpoint
	Found bool
	// File is the file Last was read from.
	File string
	// Ignored describes a torn or unreadable line after Last that was
	// skipped ("" when none): a write cut short by a crash.
	Ignored string
	// Exists says whether the witness has any file at all.
	Exists bool
}

// Last reads the end of the witness: only the newest file's last bytes (or
// the one before, when the newest holds no complete line).
func (w *File) Last() (Tail, error) {
	files, err := w.Files()
	if err != nil {
		return Tail{}, err
	}
	t := Tail{Exists: len(files) > 0}
	for i := len(files) - 1; i >= 0; i-- {
		found, err := lastLine(files[i], &t)
		if err != nil {
			return t, err
		}
		if found {
			t.File = files[i]
			return t, nil
		}
	}
	return t, nil
}

// lastLine sets t.Last from the last well-formed line of the file, noting
// what it skipped after it.
func lastLine(path string, t *Tail) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("witness: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("witness: %w", err)
	}
	off := max(info.Size()-tailRead, 0)
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("witness: %w", err)
	}
	text := string(buf)
	if i := strings.LastIndexByte(text, '\n'); i < len(text)-1 {
		t.Ignored = noteIgnored(t.Ignored, fmt.Sprintf("%s ends with a torn line (%d bytes without a newline)", path, len(text)-1-i))
		text = text[:i+1]
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	// With the read starting mid-file, the first piece may be a partial line.
	first := 0
	if off > 0 {
		first = 1
	}
	for j := len(lines) - 1; j >= first; j-- {
		if lines[j] == "" {
			continue
		}
		cp, err := ParseLine(lines[j])
		if err != nil {
			t.Ignored = noteIgnored(t.Ignored, fmt.Sprintf("%s has an unreadable line near its end: %v", path, err))
			continue
		}
		t.Last, t.Found = cp, true
		return true, nil
	}
	return false, nil
}

func noteIgnored(prev, s string) string {
	if prev == "" {
		return s
	}
	return prev + "; " + s
}

// Append writes cp's line to the file for its day (or to the newest file,
// should the clock have gone back): one write to a file opened O_APPEND,
// then fsync. A torn line left by a crash gets its newline first, in the
// same write, so the new line stands on its own. The caller holds the lock.
func (w *File) Append(cp convdesk.Checkpoint) error {
	files, err := w.Files()
	if err != nil {
		return err
	}
	path := w.FileFor(cp.At)
	if n := len(files); n > 0 && files[n-1] > path {
		path = files[n-1]
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	defer f.Close()
	line := FormatLine(cp)
	if torn, err := endsTorn(path); err != nil {
		return err
	} else if torn {
		line = "\n" + line
	}
	if _, err := f.Write([]byte(line)); err != nil {
		return fmt.Errorf("witness: append checkpoint %d: %w", cp.ID, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("witness: sync: %w", err)
	}
	if created {
		// The new file's name must survive a power loss too.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return f.Close()
}

// Create makes the witness exist before its first line, as an empty file
// for day t: from then on a witness with no file at all was removed, not
// merely not yet written to. The caller holds the lock.
func (w *File) Create(t time.Time) error {
	files, err := w.Files()
	if err != nil || len(files) > 0 {
		return err
	}
	path := w.FileFor(t)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// endsTorn reports whether the file's last byte is not a newline.
func endsTorn(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("witness: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return false, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], info.Size()-1); err != nil {
		return false, fmt.Errorf("witness: %w", err)
	}
	return b[0] != '\n', nil
}

// Line is one witness line as read.
type Line struct {
	Checkpoint convdesk.Checkpoint
	File       string
	Number     int // line number in File, from 1
}

// Reader reads every line of the witness in order, one file open at a time.
type Reader struct {
	files   []string
	cur     *os.File
	r       *bufio.Reader
	file    string
	number  int
	skipped []string
}

// Reader opens the witness for reading from its first line.
func (w *File) Reader() (*Reader, error) {
	files, err := w.Files()
	if err != nil {
		return nil, err
	}
	return &Reader{files: files}, nil
}

// Next returns the next well-formed line; io.EOF after the last. Torn and
// unreadable lines are skipped and noted in Skipped: what matters is
// whether the lines that remain still chain, which the caller checks.
func (r *Reader) Next() (Line, error) {
	for {
		if r.cur == nil {
			if len(r.files) == 0 {
				return Line{}, io.EOF
			}
			f, err := os.Open(r.files[0])
			if err != nil {
				return Line{}, fmt.Errorf("witness: %w", err)
			}
			r.cur, r.r, r.file, r.number = f, bufio.NewReaderSize(f, 64<<10), r.files[0], 0
			r.files = r.files[1:]
		}
		s, err := r.r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return Line{}, fmt.Errorf("witness: %s: %w", r.file, err)
		}
		if s != "" {
			r.number++
		}
		switch {
		case errors.Is(err, io.EOF) && s != "":
			r.skipped = append(r.skipped, fmt.Sprintf("%s line %d is torn (no newline): ignored", r.file, r.number))
		case s != "":
			cp, perr := ParseLine(strings.TrimSuffix(s, "\n"))
			if perr != nil {
				r.skipped = append(r.skipped, fmt.Sprintf("%s line %d is unreadable (%v): ignored", r.file, r.number, perr))
				continue
			}
			return Line{Checkpoint: cp, File: r.file, Number: r.number}, nil
		}
		if errors.Is(err, io.EOF) {
			r.cur.Close()
			r.cur = nil
		}
	}
}

// Skipped returns what Next has skipped so far.
func (r *Reader) Skipped() []string { return r.skipped }

// Close closes the file being read.
func (r *Reader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
