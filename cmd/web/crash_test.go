package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/witness"
)

// witnessCount is how many checkpoints the witness holds.
func witnessCount(t *testing.T, path string) int64 {
	t.Helper()
	tail, err := witness.New(path).Last()
	if err != nil {
		t.Fatal(err)
	}
	return tail.Last.ID
}

// poll calls cond until it holds, for at most limit.
func poll(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCrashBetweenCheckpointAndWitness runs the real binary under concurrent
// writes and SIGKILLs it, once exactly between a checkpoint's commit and its
// witness line (a hook only built into -tags crashtest binaries) and then at
// arbitrary moments: every restart must pass the start-up check without
// --allow-broken-trail, and the trail must verify at the end.
func TestCrashBetweenCheckpointAndWitness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	begin := time.Now()
	dir := t.TempDir()
	bin := filepath.Join(dir, "convdesk")
	build := exec.Command("go", "build", "-tags", "crashtest", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	t.Logf("built in %s", time.Since(begin).Round(time.Millisecond))
	dbPath := filepath.Join(dir, "data", "convdesk.db")
	witnessPath := filepath.Join(dir, "data", "audit.witness")

	// start runs the server; ready waits until it listens.
	start := func(round int, env ...string) (*exec.Cmd, string) {
		logPath := filepath.Join(dir, "server"+string(rune('0'+round))+".log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--db", dbPath, "--checkpoint-interval", "20ms")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logFile.Close()
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, logPath
	}
	ready := func(cmd *exec.Cmd, logPath string) {
		poll(t, 15*time.Second, "the server to listen", func() bool {
			b, _ := os.ReadFile(logPath)
			if strings.Contains(string(b), "refusing to start") || strings.Contains(string(b), "convdesk:") {
				t.Fatalf("the server did not start:\n%s", b)
			}
			return strings.Contains(string(b), "msg=listening")
		})
	}
	// writes appends events from this process while the server runs, as a
	// second console process on the same file would.
	writes := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := db.Open(dbPath)
			if err != nil {
				t.Error(err)
				return
			}
			defer d.Close()
			for ctx.Err() == nil {
				ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: convdesk.Actor{Name: "crash-test"}}, convdesk.ActionUserSearch, "")
				if err := d.Append(ctx, ev); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
			}
		}()
		return func() { cancel(); wg.Wait() }
	}

	// Round 0: the database is created and seeded, then the server kills
	// itself right after its second checkpoint commits, before the line.
	cmd, logPath := start(0, "CONVDESK_CRASHTEST_KILL_AFTER_CHECKPOINT_COMMIT=2")
	ready(cmd, logPath)
	t.Logf("created and seeded at %s", time.Since(begin).Round(time.Millisecond))
	stop := writes()
	err := cmd.Wait()
	stop()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("round 0 ended with %v, want SIGKILL", err)
	}
	if got, want := checkpointCount(t, dbPath), witnessCount(t, witnessPath)+1; got != want {
		t.Fatalf("after the crash: %d checkpoints, want one more than the witness's %d", got, want-1)
	}

	// Rounds 1-2: killed at whatever moment the witness has grown by then.
	for round := 1; round <= 2; round++ {
		cmd, logPath := start(round)
		ready(cmd, logPath)
		if round == 1 {
			b, _ := os.ReadFile(logPath)
			if !strings.Contains(string(b), "appended a checkpoint committed just before a crash") {
				t.Fatalf("round 1 did not repair the witness:\n%s", b)
			}
		}
		stop := writes()
		from := witnessCount(t, witnessPath)
		poll(t, 10*time.Second, "checkpoints under load", func() bool { return witnessCount(t, witnessPath) >= from+2 })
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		stop()
	}

	cmd, logPath = start(3)
	ready(cmd, logPath)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	t.Logf("crash rounds done at %s", time.Since(begin).Round(time.Millisecond))
	code, stdout, stderr := runCmd(t, "audit", "verify", "--db", dbPath)
	if code != 0 {
		t.Fatalf("verify after the crashes: exit %d\n%s%s", code, stdout, stderr)
	}
}
