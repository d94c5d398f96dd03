package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// child is a process the load tool started and stops.
type child struct {
	name string
	cmd  *exec.Cmd
	URL  string
	done chan error
}

// Pid is the child's process ID.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// Stop asks the child to shut down, and kills it after 10 s.
func (c *child) Stop() {
	if c == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// freeAddr returns a free 127.0.0.1 port's address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts bin on db (a demo database is created there when
// missing) on a free loopback port and waits until /readyz answers.
func startServer(ctx context.Context, t target, db string, stderr io.Writer) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--db", db, "--addr", addr, "--log-level", "warn", "--demo=true"}
	env := os.Environ()
	if t.Backend == "tencent" {
		// The fake's defaults (cmd/timfake): its SDKAppID, admin and public demo key.
		args = append(args, "--backend", "tencent", "--tim-endpoint", t.TIMEndpoint,
			"--tim-sdkappid", "1400000000", "--tim-admin", "administrator")
		if os.Getenv("CONVDESK_TIM_SECRET_KEY") == "" {
			return nil, errors.New("--backend tencent: set CONVDESK_TIM_SECRET_KEY to the fake's key (go run ./cmd/timfake prints it)")
		}
	}
	cmd := exec.Command(t.Bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Dir = filepath.Dir(db)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: filepath.Base(t.Bin), cmd: cmd, URL: "http://" + addr, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(c.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			return nil, fmt.Errorf("%s exited before it was ready: %v", t.Bin, err)
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, fmt.Errorf("%s not ready after 2 minutes", t.Bin)
		}
	}
}

// startBytesServer re-executes this binary in serve-bytes mode: a separate
// Echo process answering each path with the given file's bytes.
func startBytesServer(ctx context.Context, files map[string]string, stderr io.Writer) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"serve-bytes", "--addr", "127.0.0.1:0"}
	for path, file := range files {
		args = append(args, "--file", path+"="+file)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: "serve-bytes", cmd: cmd, done: make(chan error, 1)}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("serve-bytes did not start: %v", err)
	}
	go func() { io.Copy(io.Discard, out); c.done <- cmd.Wait() }()
	c.URL = strings.TrimSpace(line)
	return c, nil
}

// bytesFlag collects path=file pairs.
type bytesFlag map[string]string

func (b bytesFlag) String() string { return fmt.Sprint(map[string]string(b)) }
func (b bytesFlag) Set(s string) error {
	// The file is after the last "=": the path's query may hold "=" too.
	i := strings.LastIndex(s, "=")
	path, file := s[:max(i, 0)], s[i+1:]
	if i < 0 || !strings.HasPrefix(path, "/") || file == "" {
		return fmt.Errorf("%q: want /path=file", s)
	}
	b[path] = file
	return nil
}

// serveBytes is the serve-bytes mode: Echo answering GET path (query
// included, as the pages were fetched) with the bytes of a file, as
// text/html, the least any server can do to answer with that page. It
// prints its base URL on the first line of stdout.
func serveBytes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest serve-bytes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address, loopback only")
	files := bytesFlag{}
	fs.Var(files, "file", "/path?query=file: answer GET /path?query with the file's bytes (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(*addr); host != "127.0.0.1" {
		return fmt.Errorf("--addr %q: 127.0.0.1 only", *addr)
	}
	pages := map[string][]byte{}
	for path, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		pages[path] = b
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/*", func(c echo.Context) error {
		b, ok := pages[c.Request().URL.RequestURI()]
		if !ok {
			return echo.ErrNotFound
		}
		return c.Blob(http.StatusOK, "text/html; charset=utf-8", b)
	})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	e.Listener = l
	fmt.Fprintf(stdout, "http://%s\n", l.Addr())
	go func() {
		<-ctx.Done()
		e.Close()
	}()
	if err := e.Start(""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// rssKB reads a process's resident set size (VmRSS) in kB.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// loadavg returns the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
