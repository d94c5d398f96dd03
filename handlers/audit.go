package handlers

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// AuditPages serves the audit trail to auditors and admins: search with
// keyset paging, event detail with its before/after diff, streamed export
// and chain verification.
type AuditPages struct {
	s    *Server
	jobs *verifyJobs
}

// recordAuditRead records that the signed-in staff member read the trail
// (a page of the list, an event, a user's history) as audit.view, with what
// was read in detail: the trail holds end users' data, and reading it is
// how an insider would follow a user's support history. It goes through the
// coalescer keyed by the staff member, so the first read in a minute is
// recorded at once and the rest (paging) are counted into one event at the
// end of the minute. Exports are recorded as audit.export instead, one event
// per export with its filter and row count.
func (s *Server) recordAuditRead(c echo.Context, subject string, detail map[string]string) error {
	if s.coalesce == nil {
		return nil
	}
	ev := convdesk.NewAuditEvent(Attribution(c, ""), convdesk.ActionAuditView, subject)
	ev.Detail = detail
	switch detail["view"] {
	case "event":
		ev.Message = "read audit event " + detail["event"]
	case "history":
		ev.Message = "read the audit history of " + subject
	default:
		ev.Message = "read a page of the audit trail"
	}
	return s.coalesce.Record(c.Request().Context(), refusalSource(c, string(convdesk.ActionAuditView)), ev)
}

// auditPageSize is how many events a page of the trail shows.
const auditPageSize = 50

// auditDateLayout is how the filter's days are written.
const auditDateLayout = "2006-01-02"

// auditDefaultQuery is the filter of /audit when the address states none (no
// q at all): the changes, which reads would otherwise drown. Everything is
// the explicit empty query, q=, which every link to the list writes out.
const auditDefaultQuery = "action:edits"

// auditChips are the quick filters above the query box, in display order.
// Each is a whole query: choosing one replaces the query box's text, never
// adds to it, so the box always states exactly what the list and the
// exports select.
var auditChips = []struct{ key, q string }{
	{"changes", auditDefaultQuery},
	{"reads", "action:reads"},
	{"signins", "action:signins"},
	{"staff", "action:staff"},
	{"everything", ""},
}

// Routes declares the audit pages.
func (h *AuditPages) Routes(r *Router) {
	h.jobs = newVerifyJobs(maxVerifyJobs, verifyJobTTL)
	h.s.verifyJobs = h.jobs
	r.GET("/audit", "audit.index", AccessAuditor, h.Index)
	r.GET("/audit/events/:id", "audit.event", AccessAuditor, h.Event)
	r.GET("/audit/export.csv", "audit.export.csv", AccessAuditor, h.ExportCSV, Streaming())
	r.GET("/audit/export.ndjson", "audit.export.ndjson", AccessAuditor, h.ExportNDJSON, Streaming())
	r.POST("/audit/verify", "audit.verify", AccessAuditor, h.StartVerify, Audited(convdesk.ActionAuditVerify))
	r.GET("/audit/verify/:job", "audit.verify.status", AccessAuditor, h.VerifyStatus)
}

// auditListInput is the audit page's query string: the filter as one line
// (q) or as the filter form's fields, a keyset position, or a day to jump to.
type auditListInput struct {
	Q      string `query:"q"`
	Before string `query:"before"` // events older than this ID
	After  string `query:"after"`  // events newer than this ID
	Jump   string `query:"jump"`   // show events up to the end of this day

	Actor      string `query:"actor"`
	User       string `query:"user"`
	Action     string `query:"action"`
	Outcome    string `query:"outcome"`
	AfterDate  string `query:"after_date"`
	BeforeDate string `query:"before_date"`
	Ticket     string `query:"ticket"`
	Text       string `query:"text"`
}

// auditFieldNames are the filter form's fields: a request carrying any of
// them was made with the form, and the fields, not q, state the filter.
var auditFieldNames = []string{"actor", "user", "action", "outcome", "after_date", "before_date", "ticket", "text"}

// auditFromFields reports whether the filter form was submitted.
func auditFromFields(c echo.Context) bool {
	params := c.QueryParams()
	for _, n := range auditFieldNames {
		if _, ok := params[n]; ok {
			return true
		}
	}
	return false
}

// fields returns the filter exactly as the form's fields state it.
func (in auditListInput) fields() convdesk.AuditFilter {
	return convdesk.AuditFilter{
		Actor: strings.TrimSpace(in.Actor), User: strings.TrimSpace(in.User),
		Action: strings.TrimSpace(in.Action), Outcome: convdesk.Outcome(strings.TrimSpace(in.Outcome)),
		After: strings.TrimSpace(in.AfterDate), Before: strings.TrimSpace(in.BeforeDate),
		Ticket: strings.TrimSpace(in.Ticket), Text: strings.Join(strings.Fields(in.Text), " "),
	}
}

// auditFilterRequest is what the page was asked to show.
type auditFilterRequest struct {
	filter convdesk.AuditFilter
	// typed is what the staff member typed, shown again when it is refused.
	typed   convdesk.AuditFilter
	typedQ  string
	changed bool // the address does not state the filter in q: send the canonical one
}

// filter reads the filter: from the form's fields when they were submitted
// (validated by writing them as a query and parsing that back, so the form
// and the query line accept the same), else from q; a jump sets before: to
// the day after the one picked.
func (in auditListInput) filter(c echo.Context) (auditFilterRequest, error) {
	ctx := c.Request().Context()
	var r auditFilterRequest
	var err error
	if auditFromFields(c) {
		r.typed = in.fields()
		r.typedQ = r.typed.String()
		r.changed = true
	} else {
		r.typedQ = in.Q
		if _, stated := c.QueryParams()["q"]; !stated {
			r.typedQ = auditDefaultQuery
		}
	}
	r.filter, err = convdesk.ParseAuditFilter(r.typedQ)
	if err != nil {
		return r, err
	}
	if !auditFromFields(c) {
		r.typed = r.filter
	}
	if in.Jump != "" {
		day, err := time.Parse(auditDateLayout, strings.TrimSpace(in.Jump))
		if err != nil {
			return r, auditInvalid(views.T(ctx, "audit.jump.invalid", "Value", boundUTF8(in.Jump, 32)))
		}
		r.filter.Before = day.AddDate(0, 0, 1).Format(auditDateLayout)
		r.typed.Before = r.filter.Before
		r.changed = true
	}
	return r, nil
}

// position reads the keyset position: before or after an event ID.
func (in auditListInput) position(ctx context.Context) (before, after int64, err error) {
	parse := func(s string) (int64, error) {
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0, auditInvalid(views.T(ctx, "audit.page.invalid"))
		}
		return n, nil
	}
	if before, err = parse(in.Before); err != nil {
		return 0, 0, err
	}
	if after, err = parse(in.After); err != nil {
		return 0, 0, err
	}
	if after > 0 {
		before = 0
	}
	return before, after, nil
}

// auditInvalid is a refused filter or page position, shown with 422.
func auditInvalid(msg string) error {
	return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "%s", msg)
}

// Index is the audit trail: newest first, filtered, one keyset page.
func (h *AuditPages) Index(c echo.Context) error {
	var in auditListInput
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &in); err != nil {
		return auditInvalid(views.T(c.Request().Context(), "audit.query.unreadable"))
	}
	ctx := c.Request().Context()
	req, err := in.filter(c)
	if err != nil {
		return h.refuseFilter(c, req, err)
	}
	before, after, err := in.position(ctx)
	if err != nil {
		return h.refuseFilter(c, req, err)
	}
	q := req.filter.String()
	if req.changed {
		// The form's fields or a jump: the address becomes the filter in
		// query syntax, so that the link reproduces the view.
		canonical := h.listURL(q, "", 0)
		if !IsFragmentRequest(c.Request()) {
			return Redirect(c, canonical)
		}
		before, after = 0, 0
	}
	page, err := h.page(ctx, req.filter.Query(Location(c)), before, after)
	if err != nil {
		return err
	}
	detail := map[string]string{"view": "list", "query": q, "events": strconv.Itoa(len(page.events))}
	if before > 0 {
		detail["before"] = strconv.FormatInt(before, 10)
	}
	if after > 0 {
		detail["after"] = strconv.FormatInt(after, 10)
	}
	if err := h.s.recordAuditRead(c, req.filter.User, detail); err != nil {
		return err
	}
	vm := h.pageVM(c, req.filter, q, page, before, after)
	if IsFragmentRequest(c.Request()) {
		// The address the results stand for, not the form's fields.
		c.Response().Header().Set("HX-Push-Url", h.currentURL(q, before, after))
	}
	return h.render(c, http.StatusOK, vm)
}

// refuseFilter answers a query that cannot be read with 422, the forms
// showing what was typed and why it was refused.
func (h *AuditPages) refuseFilter(c echo.Context, req auditFilterRequest, err error) error {
	if convdesk.KindOf(err) != convdesk.EInvalid {
		return err
	}
	if rerr := h.s.recordRefusal(c, convdesk.ReasonBadFilter, err, map[string]string{"query": boundUTF8(req.typedQ, 256)}); rerr != err {
		return rerr
	}
	vm := h.pageVM(c, req.typed, req.typedQ, auditPage{}, 0, 0)
	vm.Filter.Error = convdesk.MessageOf(err)
	vm.Results.Error = vm.Filter.Error
	if IsFragmentRequest(c.Request()) {
		c.Response().Header().Set("HX-Push-Url", "false")
	}
	return h.render(c, http.StatusUnprocessableEntity, vm)
}

func (h *AuditPages) render(c echo.Context, status int, vm views.AuditPageVM) error {
	frag := vm
	frag.Filter.OOB = true
	return Render(c, status, views.AuditPage(vm), views.AuditFragment(frag))
}

// auditPage is one page of events, newest first, and whether there are
// pages on either side.
type auditPage struct {
	events       []convdesk.AuditEvent
	older, newer bool
}

// page reads one keyset page: the newest events, those older than before,
// or those just newer than after. It reads one event more than it shows to
// learn whether a further page exists, and asks for one event on the other
// side only when it cannot know otherwise: never OFFSET, never a count.
func (h *AuditPages) page(ctx context.Context, q convdesk.AuditQuery, before, after int64) (auditPage, error) {
	var p auditPage
	q.Limit = auditPageSize + 1
	q.BeforeID, q.AfterID = before, after
	evs, err := h.s.audit.Query(ctx, q)
	if err != nil {
		return p, err
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID > evs[j].ID })
	exists := func(before, after int64) (bool, error) {
		probe := q
		probe.Limit, probe.BeforeID, probe.AfterID = 1, before, after
		found, err := h.s.audit.Query(ctx, probe)
		return len(found) > 0, err
	}
	if after > 0 {
		// The extra event, if any, is the newest: a newer page exists.
		if len(evs) > auditPageSize {
			p.newer = true
			evs = evs[1:]
		}
		edge := after + 1
		if len(evs) > 0 {
			edge = evs[len(evs)-1].ID
		}
		if p.older, err = exists(edge, 0); err != nil {
			return p, err
		}
	} else {
		if len(evs) > auditPageSize {
			p.older = true
			evs = evs[:auditPageSize]
		}
		if before > 0 {
			edge := before - 1
			if len(evs) > 0 {
				edge = evs[0].ID
			}
			if p.newer, err = exists(0, edge); err != nil {
				return p, err
			}
		}
	}
	p.events = evs
	return p, nil
}

// listURL is the audit page for the filter q, at a keyset position when
// param ("before" or "after") is given.
func (h *AuditPages) listURL(q, param string, id int64) string {
	v := url.Values{"q": {q}} // always stated: no q at all means the default
	if param != "" && id > 0 {
		v.Set(param, strconv.FormatInt(id, 10))
	}
	return h.s.echo.Reverse("audit.index") + "?" + v.Encode()
}

// currentURL is the address of the page shown.
func (h *AuditPages) currentURL(q string, before, after int64) string {
	switch {
	case after > 0:
		return h.listURL(q, "after", after)
	case before > 0:
		return h.listURL(q, "before", before)
	}
	return h.listURL(q, "", 0)
}

// auditWithQ adds the filter q to a URL, so a page reached from the trail can
// lead back to the same view.
func auditWithQ(u, q string) string {
	if q == "" {
		return u
	}
	return u + "?" + url.Values{"q": {q}}.Encode()
}

// eventURL is an event's detail page.
func (h *AuditPages) eventURL(id int64, q string) string {
	return auditWithQ(h.s.echo.Reverse("audit.event", strconv.FormatInt(id, 10)), q)
}

// Event shows one event: every field, the change it recorded and its
// neighbours by ticket and subject.
func (h *AuditPages) Event(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		err := convdesk.Errorf(convdesk.ENotFound, 0, "%s", views.T(ctx, "audit.event.not_found"))
		return h.s.recordRefusal(c, convdesk.ReasonBadEventID, err, map[string]string{"event": boundUTF8(c.Param("id"), 32)})
	}
	e, err := h.s.audit.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := h.s.recordAuditRead(c, e.SubjectUser, map[string]string{"view": "event", "event": strconv.FormatInt(id, 10)}); err != nil {
		return err
	}
	// The filter the staff member came from, kept for the way back when it
	// reads; a broken one is dropped rather than refused.
	q := ""
	if f, err := convdesk.ParseAuditFilter(c.QueryParam("q")); err == nil {
		q = f.String()
	}
	vm := views.AuditEventPageVM{
		Layout:  h.s.layout(c, views.T(ctx, "audit.event.title", "ID", e.ID)),
		BackURL: h.listURL(q, "", 0),
		Event:   h.eventVM(c, &e, q),
	}
	related, err := h.related(c, &e, q)
	if err != nil {
		return err
	}
	vm.Event.Related = related
	if vm.Event.Undo, err = h.undo(c, &e, q); err != nil {
		return err
	}
	if e.Outcome == convdesk.OutcomePending {
		outcome, err := h.outcomeOf(ctx, &e)
		if err != nil {
			return err
		}
		if outcome > 0 {
			vm.Event.OutcomeID, vm.Event.OutcomeURL = outcome, h.eventURL(outcome, q)
		}
	}
	return Render(c, http.StatusOK, views.AuditEventPage(vm), nil)
}

// outcomeScan is how many of the subject's later events of the same action
// are searched for an attempt's outcome. Edits to one user run one at a
// time, and an outcome is written right after its call (or, after a crash,
// at the next start, before any other edit), so it is the next of them.
const outcomeScan = 20

// outcomeOf is the ID of the outcome event that answers the attempt a, 0
// while none does.
func (h *AuditPages) outcomeOf(ctx context.Context, a *convdesk.AuditEvent) (int64, error) {
	evs, err := h.s.audit.Query(ctx, convdesk.AuditQuery{
		SubjectUser: a.SubjectUser, Actions: []convdesk.Action{a.Action}, AfterID: a.ID, Limit: outcomeScan,
	})
	if err != nil {
		return 0, err
	}
	for i := range evs {
		if attemptOf(&evs[i]) == a.ID {
			return evs[i].ID, nil
		}
	}
	return 0, nil
}

// auditRelatedLimit is how many related events of each kind the detail lists.
const auditRelatedLimit = 5

// related lists a handful of other events with the same ticket and with the
// same subject user.
func (h *AuditPages) related(c echo.Context, e *convdesk.AuditEvent, q string) ([]views.AuditRelatedVM, error) {
	ctx := c.Request().Context()
	var out []views.AuditRelatedVM
	add := func(testID, title string, f convdesk.AuditFilter, query convdesk.AuditQuery) error {
		query.Limit = auditRelatedLimit + 1
		evs, err := h.s.audit.Query(ctx, query)
		if err != nil {
			return err
		}
		r := views.AuditRelatedVM{TestID: testID, Title: title, AllURL: h.listURL(f.String(), "", 0)}
		for i := range evs {
			if evs[i].ID != e.ID && len(r.Rows) < auditRelatedLimit {
				r.Rows = append(r.Rows, h.rowVM(ctx, &evs[i], Location(c), q))
			}
		}
		out = append(out, r)
		return nil
	}
	if e.Ticket != "" {
		if err := add("related-ticket", views.T(ctx, "audit.event.related.ticket", "Ticket", e.Ticket),
			convdesk.AuditFilter{Ticket: e.Ticket}, convdesk.AuditQuery{Ticket: e.Ticket}); err != nil {
			return nil, err
		}
	}
	if e.SubjectUser != "" {
		if err := add("related-subject", views.T(ctx, "audit.event.related.subject", "User", e.SubjectUser),
			convdesk.AuditFilter{User: e.SubjectUser}, convdesk.AuditQuery{SubjectUser: e.SubjectUser}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
