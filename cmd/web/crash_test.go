package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/witness"
)

// crashRounds is how many arbitrary-moment kills the crash test makes:
// two in the short form that go test ./... runs, more when asked
// (-crash.rounds=20, or CONVDESK_CRASH_ROUNDS=20).
var crashRounds = flag.Int("crash.rounds", 0, "arbitrary-moment SIGKILL rounds of the crash test (default 2, or $CONVDESK_CRASH_ROUNDS)")

func crashRoundCount(t *testing.T) int {
	if *crashRounds > 0 {
		return *crashRounds
	}
	if v := os.Getenv("CONVDESK_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CONVDESK_CRASH_ROUNDS=%q: want a positive number", v)
		}
		return n
	}
	return 2
}

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
// arbitrary moments while demo agents move, rename, create and delete groups
// over HTTP and another process appends events to the same file. After
// every restart, which must pass the start-up check without
// --allow-broken-trail: every edit answered 200 is in the audit trail, the
// boards and the trail agree (checkCrashEdits), the chain and the witness
// verify (audit verify exits 0) and PRAGMA integrity_check is ok.
//
// The short form (go test ./...) kills twice at arbitrary moments; the long
// form more often:
//
//	go test ./cmd/web/ -run CrashBetween -crash.rounds=20 -timeout 30m -v
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
		logPath := filepath.Join(dir, fmt.Sprintf("server%d.log", round))
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
	// ready waits until the server listens and returns its base URL.
	ready := func(cmd *exec.Cmd, logPath string) string {
		var base string
		poll(t, 15*time.Second, "the server to listen", func() bool {
			b, _ := os.ReadFile(logPath)
			if strings.Contains(string(b), "refusing to start") || strings.Contains(string(b), "convdesk:") {
				t.Fatalf("the server did not start:\n%s", b)
			}
			_, after, ok := strings.Cut(string(b), "msg=listening url=")
			base, _, _ = strings.Cut(after, "\n")
			base = strings.Trim(strings.TrimSpace(base), `"`)
			return ok
		})
		return base
	}
	// check runs the checks every restart must pass.
	check := func(round int, base crashBaseline, edits *crashEdits) {
		t.Helper()
		acked, claims := checkCrashEdits(t, dbPath, base, edits)
		d, err := db.Open(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		ic, err := d.IntegrityCheck(context.Background())
		d.Close()
		if err != nil || ic != "ok" {
			t.Fatalf("after round %d: integrity_check %q, %v", round, ic, err)
		}
		if code, stdout, stderr := runCmd(t, "audit", "verify", "--db", dbPath); code != 0 {
			t.Fatalf("after round %d: audit verify exit %d\n%s%s", round, code, stdout, stderr)
		}
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("after round %d (%s): %d edits answered 200 so far, all recorded; boards agree with the trail (%d group states checked); chain, witness and integrity ok",
			round, time.Since(begin).Round(time.Millisecond), acked, claims)
	}
	// writes appends events from this process while the server runs, as a
	// second console process on the same file would: often (every 2 ms),
	// but not back to back. A loop that takes the write lock again the
	// moment it lets go starves the server's writer, whose busy handler
	// sleeps between tries, past its 5 s busy timeout (a sign-in then fails
	// with "database is locked"); no real second process writes like that.
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
			pace := time.NewTicker(2 * time.Millisecond)
			defer pace.Stop()
			for ctx.Err() == nil {
				select {
				case <-pace.C:
				case <-ctx.Done():
					return
				}
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

	// Rounds 1 to n: killed at an arbitrary moment under edits and appends.
	rounds := crashRoundCount(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("%d rounds, seed %d", rounds, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var baseline crashBaseline
	edits := &crashEdits{}
	for round := 1; round <= rounds; round++ {
		cmd, logPath := start(round)
		url := ready(cmd, logPath)
		if round == 1 {
			b, _ := os.ReadFile(logPath)
			if !strings.Contains(string(b), "appended a checkpoint committed just before a crash") {
				t.Fatalf("round 1 did not repair the witness:\n%s", b)
			}
			baseline = readCrashBaseline(t, dbPath)
		} else {
			check(round-1, baseline, edits)
		}
		stop := writes()
		acked, stopEdits := runCrashWriters(t, url, round, rng, edits)
		// Kill while edits are under way: after the first one answered,
		// at a random moment within the next second.
		select {
		case <-acked:
		case <-time.After(15 * time.Second):
			stopEdits()
			t.Fatalf("round %d: no edit answered 200 in 15 s", round)
		}
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond) // the moment, not a wait for anything
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		stopEdits()
		stop()
	}

	cmd, logPath = start(rounds + 1)
	ready(cmd, logPath)
	check(rounds, baseline, edits)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	t.Logf("crash rounds done at %s", time.Since(begin).Round(time.Millisecond))
	code, stdout, stderr := runCmd(t, "audit", "verify", "--db", dbPath)
	if code != 0 {
		t.Fatalf("verify after the crashes: exit %d\n%s%s", code, stdout, stderr)
	}
}
