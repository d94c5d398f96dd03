//go:build crashtest

package db

import (
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// In binaries built with -tags crashtest (the crash tests' own builds, never
// a release), CONVDESK_CRASHTEST_KILL_AFTER_CHECKPOINT_COMMIT=N makes the
// process SIGKILL itself right after its Nth checkpoint commits, before the
// checkpoint's witness line is written: the crash the start-up check must
// repair.
func init() {
	n, err := strconv.Atoi(os.Getenv("CONVDESK_CRASHTEST_KILL_AFTER_CHECKPOINT_COMMIT"))
	if err != nil || n <= 0 {
		return
	}
	var commits atomic.Int64
	afterCheckpointCommit = func() {
		if commits.Add(1) == int64(n) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
