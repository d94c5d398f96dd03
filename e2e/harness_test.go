// Package e2e drives the real console in Debian's Chromium, as a person would:
// it builds the server, starts it on a free loopback port against a fresh
// demo database, and fails on any JavaScript exception, console error, CSP
// violation or unexpected failed response.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium; the tests never download a browser.
const chromiumPath = "/usr/bin/chromium"

var (
	binary   string // the built console
	buildErr error
)

func TestMain(m *testing.M) {
	code := func() int {
		if _, err := os.Stat(chromiumPath); err != nil {
			// Checked again per test, which skips or (under CI) fails.
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "convdesk-e2e")
		if err != nil {
			buildErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "convdesk")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/web")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
		return m.Run()
	}()
	os.Exit(code)
}

// requireBrowser skips the test, loudly, when Chromium is not installed, and
// fails it under CI, where a missing browser is a broken set-up.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := "BROWSER TESTS SKIPPED: Chromium is not installed at " + chromiumPath +
			"; install Debian's package: apt-get install chromium"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// server is a running console on a fresh demo database.
type server struct {
	URL string
	DB  string
	cmd *exec.Cmd
	// args and environ are the extra flags and variables it runs with.
	args, environ []string
}

// startServer builds nothing (TestMain did) and starts the console on a free
// 127.0.0.1 port, waiting (bounded) until it answers /healthz.
func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, nil, nil)
}

// startServerWith is startServer with more flags and environment variables
// (NAME=value) for the console.
func startServerWith(t *testing.T, args, environ []string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	s := &server{URL: "http://" + addr, DB: filepath.Join(dir, "convdesk.db"), args: args, environ: environ}
	s.launch(t, "server.log")
	return s
}

// launch starts the console on s's address and database, logging to the
// file name beside the database, stops it (SIGINT) when the test ends, and
// waits (bounded) until it answers /healthz.
func (s *server) launch(t *testing.T, logName string) {
	t.Helper()
	logFile, err := os.Create(filepath.Join(filepath.Dir(s.DB), logName))
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL, "http://")
	cmd := exec.Command(binary, append([]string{"--addr", addr, "--db", s.DB, "--log-level", "warn"}, s.args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(append(os.Environ(), "CONVDESK_DEMO=true"), s.environ...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	t.Cleanup(func() {
		stopCmd(cmd)
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("server log (%s):\n%s", logName, b)
			}
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer on %s within 60 s", addr)
		}
	}
}

// stopCmd stops the console as an operator would (SIGINT), killing it if
// it has not ended within 10 s; it reports whether it ended by itself.
func stopCmd(cmd *exec.Cmd) bool {
	if cmd.ProcessState != nil {
		return true
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return false
	}
}

// allowed is a response failure a test provokes on purpose.
type allowed struct {
	status int
	path   *regexp.Regexp
}

// page is one browser context (one staff member's browser) with a watch on
// everything that must not happen.
type page struct {
	t   *testing.T
	ctx context.Context
	srv *server

	mu       sync.Mutex
	problems []string
	allow    []allowed
	step     int
}

var failedStatus = regexp.MustCompile(`status of (\d{3})`)

// newPage starts a fresh browser (own profile, so its own cookies) for srv.
func newPage(t *testing.T, srv *server) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	p := &page{t: t, srv: srv}
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(p.watch))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	p.ctx = ctx
	t.Cleanup(func() {
		if t.Failed() {
			p.shot("failure")
		}
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return p
}

// watch collects exceptions, console errors, CSP violations and failed
// responses. It runs in chromedp's event loop, so it only records.
func (p *page) watch(ev any) {
	var problem string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		problem = "JavaScript exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			problem += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			problem = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
		}
	case *log.EventEntryAdded:
		if e.Entry.Level != log.EntryLevelError && !strings.Contains(e.Entry.Text, "Content Security Policy") {
			return
		}
		if e.Entry.Source == log.EntrySourceNetwork {
			if m := failedStatus.FindStringSubmatch(e.Entry.Text); m != nil && p.isAllowed(m[1], e.Entry.URL) {
				return
			}
		}
		problem = fmt.Sprintf("%s %s: %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
	default:
		return
	}
	p.mu.Lock()
	p.problems = append(p.problems, problem)
	p.mu.Unlock()
}

func (p *page) isAllowed(status, rawURL string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.allow {
		if fmt.Sprint(a.status) == status && a.path.MatchString(rawURL) {
			return true
		}
	}
	return false
}

// expectFailure allow-lists a response the test provokes on purpose (a 409
// or 422), by status and URL pattern.
func (p *page) expectFailure(status int, pathPattern string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allow = append(p.allow, allowed{status, regexp.MustCompile(pathPattern)})
}

// use makes the page report to t (a subtest) until the returned func runs.
func (p *page) use(t *testing.T) func() {
	old := p.t
	p.t = t
	return func() { p.t = old }
}

// check fails the test if anything went wrong in the browser so far.
func (p *page) check() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		p.t.Error(pr)
	}
	p.problems = nil
}

// do runs actions, failing the test (with a screenshot) on error, then
// checks the browser for problems.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.shot(what)
		p.t.Fatalf("%s: %v", what, err)
	}
	p.check()
}

// eval evaluates JavaScript in the page and returns its result.
func eval[T any](p *page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("evaluate %q: %v", js, err)
	}
	return v
}

// evalAwait evaluates JavaScript that returns a promise and returns what the
// promise resolves to.
func evalAwait[T any](p *page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %q: %v", js, err)
	}
	return v
}

// text returns the visible text of the first element matching sel.
func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(sel, chromedp.NodeVisible))
	if err != nil {
		p.shot("text")
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// artifacts is where screenshots go: $E2E_ARTIFACTS, else e2e/artifacts.
func artifacts() string {
	if d := os.Getenv("E2E_ARTIFACTS"); d != "" {
		return d
	}
	return "artifacts"
}

// shot saves a full-page screenshot named after the test and step.
func (p *page) shot(name string) string {
	p.step++
	dir := artifacts()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	safe := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(p.t.Name()+"-"+fmt.Sprint(p.step)+"-"+name, "_")
	file := filepath.Join(dir, safe+".png")
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil || os.WriteFile(file, buf, 0o644) != nil {
		return ""
	}
	p.t.Logf("screenshot: %s", file)
	return file
}

// signIn signs in through the form as the demo account of role.
func (p *page) signIn(role string) {
	p.t.Helper()
	p.do("sign in as "+role,
		chromedp.Navigate(p.srv.URL+"/login"),
		chromedp.WaitVisible(`#login-username`),
		chromedp.SendKeys(`#login-username`, role),
		chromedp.SendKeys(`#login-password`, role+"-demo"),
		chromedp.Click(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="logout"]`),
	)
}

// axeResult is what axe-core reports per violation.
type axeResult struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	return string(b), err
})

// checkA11y injects axe-core through the DevTools protocol (not governed by
// the page's CSP; the console never serves it) and fails on serious or
// critical violations.
func (p *page) checkA11y(name string) {
	p.t.Helper()
	src, err := axeSource()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		p.t.Fatalf("inject axe: %v", err)
	}
	results, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]axeResult](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("run axe on %s: %v", name, err)
	}
	for _, v := range results {
		if v.Impact == "serious" || v.Impact == "critical" {
			var targets []string
			for i, n := range v.Nodes {
				if i == 3 {
					targets = append(targets, fmt.Sprintf("and %d more", len(v.Nodes)-3))
					break
				}
				targets = append(targets, fmt.Sprint(n.Target...)+" ("+strings.ReplaceAll(n.Summary, "\n", " ")+")")
			}
			p.t.Errorf("%s: accessibility %s (%s): %s at %s", name, v.ID, v.Impact, v.Help, strings.Join(targets, "; "))
		}
	}
}
