package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// Group commit. Every write transaction (an audit append, an edit with its
// event, a staff change, a checkpoint) is a job for one committer goroutine,
// which owns the writer connection. It takes every job queued (up to
// maxBatch), runs them one after the other in one transaction, each inside
// its own SAVEPOINT, and commits once: one fsync for the batch instead of one
// per job. Nothing waits for a batch to fill: a job that finds the committer
// idle runs at once, alone; jobs that arrive while a batch is being written
// form the next one.
//
// What a job's caller sees is what a transaction of its own would give:
//   - its answer comes only after the commit holding its work returned, so
//     an acknowledged job is durable (synchronous=FULL);
//   - a job that fails (its own error, a refused edit, a constraint, a panic)
//     is rolled back to its savepoint and only its caller hears of it; the
//     other jobs of the batch commit;
//   - jobs run in queue order and see the work of the jobs before them, so
//     each audit event chains to the head as it is inside the transaction;
//   - a job whose context is done before it starts is skipped with the
//     context's error; once started, it runs to the end under a context
//     without cancellation, because a cancelled statement would make SQLite
//     interrupt, and roll back, the transaction the whole batch shares;
//   - when the batch itself fails (BEGIN, a savepoint statement, COMMIT),
//     every job in it gets that error and none of them is committed.
//
// What is SQLite-specific here is only that there is one writer; a server
// database would batch the same way to share its WAL flush.

// maxBatchJobs bounds a batch, so one commit does not keep the first job of
// a long queue waiting for the last.
const maxBatchJobs = 64

// errClosed is returned to jobs submitted after Close.
var errClosed = errors.New("db: the database is closed")

// txJob is one queued write transaction.
type txJob struct {
	ctx   context.Context
	fn    func(ctx context.Context, tx *sqlx.Tx) error
	state atomic.Int32 // jobQueued, then jobTaken or jobAbandoned
	done  chan jobResult
}

const (
	jobQueued int32 = iota
	jobTaken
	jobAbandoned
)

type jobResult struct {
	err   error
	panic any // a panic in the job, raised again in its caller
}

// committer runs the write jobs.
type committer struct {
	db       *sqlx.DB
	maxBatch int

	mu     sync.Mutex
	queue  []*txJob
	closed bool
	wake   chan struct{} // has an element when the queue may have jobs
	exited chan struct{}

	jobs    atomic.Int64 // jobs that ran (committed or failed)
	commits atomic.Int64 // transactions committed
}

func newCommitter(db *sqlx.DB) *committer {
	c := &committer{db: db, maxBatch: maxBatchJobs, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go c.loop()
	return c
}

// do queues fn and waits for its result.
func (c *committer) do(ctx context.Context, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &txJob{ctx: ctx, fn: fn, done: make(chan jobResult, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	c.queue = append(c.queue, j)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // already signalled
	}
	var r jobResult
	select {
	case r = <-j.done:
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return ctx.Err() // never started, and now never will
		}
		r = <-j.done // started: wait for its commit
	}
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// close stops taking jobs, lets the queued ones run and waits for the last
// commit.
func (c *committer) close() {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if !already {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	<-c.exited
}

func (c *committer) loop() {
	defer close(c.exited)
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		if len(c.queue) == 0 {
			c.mu.Unlock()
			return // closed and drained
		}
		n := min(len(c.queue), c.maxBatch)
		batch := make([]*txJob, n)
		copy(batch, c.queue)
		rest := copy(c.queue, c.queue[n:])
		clear(c.queue[rest:])
		c.queue = c.queue[:rest]
		c.mu.Unlock()
		c.run(batch)
	}
}

// run runs one batch in one transaction and answers each job.
func (c *committer) run(batch []*txJob) {
	// Skip what was given up before it started.
	jobs := batch[:0]
	for _, j := range batch {
		if !j.state.CompareAndSwap(jobQueued, jobTaken) {
			continue // its caller has gone with ctx.Err()
		}
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return
	}
	results := make([]jobResult, len(jobs))
	fail := func(err error) {
		for i := range results {
			if results[i].err == nil && results[i].panic == nil {
				results[i].err = err
			}
		}
	}
	// The transaction belongs to no request: a request's cancellation must
	// not roll back the others' work.
	tx, err := c.db.BeginTxx(context.Background(), nil)
	if err != nil {
		fail(err)
	} else if len(jobs) == 1 {
		// Alone, the job's transaction is the transaction: no savepoint.
		results[0] = runJob(jobs[0], tx)
		if results[0].err != nil || results[0].panic != nil {
			tx.Rollback()
		} else if err := tx.Commit(); err != nil {
			fail(err)
		} else {
			c.commits.Add(1)
		}
	} else {
		err := c.runBatch(tx, jobs, results)
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			tx.Rollback()
			fail(err)
		} else {
			c.commits.Add(1)
		}
	}
	c.jobs.Add(int64(len(jobs)))
	for i, j := range jobs {
		j.done <- results[i]
	}
}

// runBatch runs each job inside a savepoint of tx. It returns an error only
// when the transaction as a whole can no longer commit.
func (c *committer) runBatch(tx *sqlx.Tx, jobs []*txJob, results []jobResult) error {
	for i, j := range jobs {
		if _, err := tx.Exec(`SAVEPOINT job`); err != nil {
			return fmt.Errorf("group commit: savepoint: %w", err)
		}
		results[i] = runJob(j, tx)
		if results[i].err == nil && results[i].panic == nil {
			// RELEASE fails if SQLite rolled the transaction back by itself
			// (an I/O error, a full disk): then nothing of the batch holds.
			if _, err := tx.Exec(`RELEASE job`); err != nil {
				return fmt.Errorf("group commit: release savepoint: %w", err)
			}
			continue
		}
		if _, err := tx.Exec(`ROLLBACK TO job`); err != nil {
			return fmt.Errorf("group commit: roll back a failed job: %w (the job failed with: %v)", err, results[i].err)
		}
		if _, err := tx.Exec(`RELEASE job`); err != nil {
			return fmt.Errorf("group commit: release savepoint: %w", err)
		}
	}
	return nil
}

// runJob runs j's function, turning a panic into a result its caller
// raises again.
func runJob(j *txJob, tx *sqlx.Tx) (r jobResult) {
	defer func() {
		if p := recover(); p != nil {
			r = jobResult{panic: p}
		}
	}()
	return jobResult{err: j.fn(context.WithoutCancel(j.ctx), tx)}
}

// writeStats returns how many write jobs ran and in how many commits.
func (db *DB) writeStats() (jobs, commits int64) {
	return db.commit.jobs.Load(), db.commit.commits.Load()
}
