package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// Verification jobs: at most this many are kept, each for this long (which
// also bounds how long one may run).
const (
	maxVerifyJobs = 16
	verifyJobTTL  = 10 * time.Minute
)

// verifyJob is one chain verification running in the background.
type verifyJob struct {
	id      string
	owner   int64 // the staff member who started it; only they see it
	started time.Time

	// finished is closed once the verdict is recorded.
	finished chan struct{}

	mu       sync.Mutex
	checked  int64
	total    int64
	done     bool
	report   convdesk.VerifyReport
	err      error
	duration time.Duration
}

// progress is the verifier's progress callback.
func (j *verifyJob) progress(checked, total int64) {
	j.mu.Lock()
	j.checked, j.total = checked, total
	j.mu.Unlock()
}

// finish records the verdict.
func (j *verifyJob) finish(rep convdesk.VerifyReport, err error, took time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	defer close(j.finished)
	j.done, j.report, j.err, j.duration = true, rep, err, took
	if err == nil && rep.Events > j.checked {
		j.checked = rep.Events
	}
	if j.checked > j.total {
		j.total = j.checked
	}
}

// verifyJobState is a copy of a job's state, read under its lock.
type verifyJobState struct {
	checked, total int64
	done           bool
	report         convdesk.VerifyReport
	err            error
	duration       time.Duration
}

func (j *verifyJob) state() verifyJobState {
	j.mu.Lock()
	defer j.mu.Unlock()
	return verifyJobState{j.checked, j.total, j.done, j.report, j.err, j.duration}
}

// verifyJobs is the in-memory table of verification jobs, bounded in size;
// jobs expire ttl after they started.
type verifyJobs struct {
	mu   sync.Mutex
	jobs map[string]*verifyJob
	max  int
	ttl  time.Duration
}

func newVerifyJobs(max int, ttl time.Duration) *verifyJobs {
	return &verifyJobs{jobs: map[string]*verifyJob{}, max: max, ttl: ttl}
}

// expire drops jobs older than the ttl. The caller holds t.mu.
func (t *verifyJobs) expire(now time.Time) {
	for id, j := range t.jobs {
		if now.Sub(j.started) >= t.ttl {
			delete(t.jobs, id)
		}
	}
}

// start adds a job for owner, making room by dropping the oldest finished
// job when the table is full; with every slot running it refuses.
func (t *verifyJobs) start(now time.Time, owner int64) (*verifyJob, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	if len(t.jobs) >= t.max {
		var oldest *verifyJob
		for _, j := range t.jobs {
			if j.state().done && (oldest == nil || j.started.Before(oldest.started)) {
				oldest = j
			}
		}
		if oldest == nil {
			return nil, false
		}
		delete(t.jobs, oldest.id)
	}
	j := &verifyJob{id: rand.Text(), owner: owner, started: now, finished: make(chan struct{})}
	t.jobs[j.id] = j
	return j, true
}

// get returns the job id, nil when it expired or never existed.
func (t *verifyJobs) get(id string, now time.Time) *verifyJob {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	return t.jobs[id]
}

// StartVerify starts a chain verification in the background and answers
// with its status (htmx) or sends the browser to its status page.
func (h *AuditPages) StartVerify(c echo.Context) error {
	ctx := c.Request().Context()
	staff, _ := StaffOf(c)
	job, ok := h.jobs.start(h.s.now(), staff.ID)
	if !ok {
		return convdesk.Errorf(convdesk.ETooMany, 0, "%s", views.T(ctx, "audit.verify.busy"))
	}
	// The job outlives the request: it keeps the request's values (the
	// attribution is taken now) but not its cancellation.
	jobCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), verifyJobTTL)
	go h.runVerify(jobCtx, cancel, job, Attribution(c, ""))

	status := h.s.echo.Reverse("audit.verify.status", job.id)
	if !IsFragmentRequest(c.Request()) {
		return Redirect(c, status)
	}
	vm := h.verifyVM(c, job)
	return Render(c, http.StatusAccepted, views.AuditVerifyStatus(vm), views.AuditVerifyStatus(vm))
}

// runVerify walks the chain and records the verification, with its verdict,
// as an audit.verify event by the staff member who asked.
func (h *AuditPages) runVerify(ctx context.Context, cancel context.CancelFunc, job *verifyJob, a convdesk.Attribution) {
	defer cancel()
	start := time.Now()
	var rep convdesk.VerifyReport
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = convdesk.Internal(fmt.Errorf("verify panicked: %v", p))
			}
		}()
		rep, err = h.s.audit.Verify(ctx, job.progress)
		return err
	}()
	took := time.Since(start)

	ev := convdesk.NewAuditEvent(a, convdesk.ActionAuditVerify, "")
	ev.Duration = took
	ev.Detail = map[string]string{
		"events":      fmt.Sprint(rep.Events),
		"checkpoints": fmt.Sprint(rep.Checkpoints),
	}
	switch {
	case err != nil:
		ev.Outcome = convdesk.OutcomeFailed
		ev.ResultCode = convdesk.CodeOf(err)
		ev.Message = "the verification could not run: " + auditVerifyErrorText(err)
	case rep.OK:
		ev.Message = fmt.Sprintf("intact through event %d, checkpoint %d", rep.LastEventID, rep.LastCheckpointID)
		ev.Detail["uncheckpointed"] = fmt.Sprint(rep.UncheckpointedEvents)
	default:
		ev.Outcome = convdesk.OutcomeFailed
		ev.Message = rep.Problem
		ev.Detail["broken_event"] = fmt.Sprint(rep.BrokenEventID)
		ev.Detail["broken_checkpoint"] = fmt.Sprint(rep.BrokenCheckpointID)
	}
	// The verdict stands even if it cannot be recorded; the failure is logged.
	if aerr := h.s.audit.Append(ctx, ev); aerr != nil {
		h.s.log.Error("record audit.verify", "request_id", a.RequestID, "err", aerr)
	}
	if err != nil && !isNoAuditKey(err) {
		h.s.log.Error("audit verification failed", "request_id", a.RequestID, "err", err)
	}
	job.finish(rep, err, took)
}

// trailVerdicter is an audit log that knows the trail's last known state
// without walking it: the database adapter keeps its start-up check's
// verdict (including a break accepted then or at an earlier start) and its
// last verification's.
type trailVerdicter interface {
	TrailVerdict() (rep convdesk.VerifyReport, known bool)
}

// trailBroken is the audit pages' red banner while the trail is known to
// fail verification, "" otherwise (or when the audit log cannot tell).
func (h *AuditPages) trailBroken(ctx context.Context) string {
	tv, ok := h.s.audit.(trailVerdicter)
	if !ok {
		return ""
	}
	rep, known := tv.TrailVerdict()
	if !known || rep.OK {
		return ""
	}
	return views.T(ctx, "audit.trail.broken", "Position", rep.Position(), "Problem", rep.Problem)
}

// isNoAuditKey reports whether err says the audit key is not set. Handlers
// do not import the database adapter, so its ErrNoAuditKey is known by its
// text.
func isNoAuditKey(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "no audit key")
}

// auditVerifyErrorText is a verification failure in English, for the trail.
func auditVerifyErrorText(err error) string {
	var de *convdesk.Error
	switch {
	case isNoAuditKey(err):
		return "no audit key is configured"
	case errors.Is(err, context.DeadlineExceeded):
		return "it took too long"
	case errors.As(err, &de):
		return convdesk.MessageOf(err)
	}
	return convdesk.MessageOf(convdesk.Internal(err))
}

// VerifyStatus shows a verification job: progress while it runs, then the
// verdict.
func (h *AuditPages) VerifyStatus(c echo.Context) error {
	ctx := c.Request().Context()
	staff, _ := StaffOf(c)
	job := h.jobs.get(c.Param("job"), h.s.now())
	if job == nil || job.owner != staff.ID {
		vm := views.AuditVerifyVM{
			StartURL: h.s.echo.Reverse("audit.verify"),
			Gone:     true,
			Error:    views.T(ctx, "audit.verify.gone"),
		}
		vm.CSRFToken, _ = c.Get(CSRFContextKey).(string)
		vm.TrailBroken = h.trailBroken(ctx)
		if IsFragmentRequest(c.Request()) {
			// 200, so that htmx swaps it in and the polling ends.
			return Render(c, http.StatusOK, views.AuditVerifyStatus(vm), views.AuditVerifyStatus(vm))
		}
		return Render(c, http.StatusNotFound, h.verifyPage(c, vm), nil)
	}
	vm := h.verifyVM(c, job)
	return Render(c, http.StatusOK, h.verifyPage(c, vm), views.AuditVerifyStatus(vm))
}

func (h *AuditPages) verifyPage(c echo.Context, vm views.AuditVerifyVM) templ.Component {
	ctx := c.Request().Context()
	return views.AuditVerifyPage(h.s.layout(c, views.T(ctx, "audit.verify.title")), h.s.echo.Reverse("audit.index"), vm)
}

// verifyVM shows a job's state in words.
func (h *AuditPages) verifyVM(c echo.Context, job *verifyJob) views.AuditVerifyVM {
	ctx := c.Request().Context()
	st := job.state()
	vm := views.AuditVerifyVM{
		StartURL:  h.s.echo.Reverse("audit.verify"),
		StatusURL: h.s.echo.Reverse("audit.verify.status", job.id),
		Running:   !st.done,
		Checked:   st.checked,
		Total:     st.total,
		Done:      st.done,
	}
	vm.CSRFToken, _ = c.Get(CSRFContextKey).(string)
	vm.TrailBroken = h.trailBroken(ctx)
	switch {
	case !st.done && st.total == 0:
		vm.Progress = views.T(ctx, "audit.verify.starting")
	case !st.done:
		vm.Progress = views.T(ctx, "audit.verify.progress", "Checked", auditDigits(st.checked), "Total", auditDigits(st.total))
	default:
		vm.Progress = views.T(ctx, "audit.verify.checked", "Checked", auditDigits(st.checked), "Duration", auditDuration(st.duration))
	}
	if !st.done {
		return vm
	}
	rep := st.report
	switch {
	case isNoAuditKey(st.err):
		vm.Error = views.T(ctx, "audit.verify.nokey")
	case st.err != nil:
		vm.Error = views.T(ctx, "audit.verify.failed", "Message", convdesk.MessageOf(st.err))
	case rep.OK:
		vm.OK = true
		if rep.LastCheckpointID > 0 {
			vm.Verdict = views.T(ctx, "audit.verify.intact", "Event", rep.LastEventID, "Checkpoint", rep.LastCheckpointID)
		} else {
			vm.Verdict = views.T(ctx, "audit.verify.intact_nocp", "Event", rep.LastEventID)
		}
		if rep.UncheckpointedEvents > 0 {
			vm.Uncheckpointed = views.T(ctx, "audit.verify.uncheckpointed", "Count", rep.UncheckpointedEvents, "N", auditDigits(rep.UncheckpointedEvents))
		}
	case rep.BrokenEventID != 0:
		vm.Verdict = views.T(ctx, "audit.verify.broken_event", "Event", rep.BrokenEventID, "Problem", rep.Problem)
	default:
		vm.Verdict = views.T(ctx, "audit.verify.broken_checkpoint", "Checkpoint", rep.BrokenCheckpointID, "Problem", rep.Problem)
	}
	return vm
}
