package db

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
)

// Audit query page sizes.
const (
	defaultAuditPage = 50
	maxAuditPage     = 500
)

var _ convdesk.AuditLog = (*DB)(nil)

// Get returns one audit event.
func (db *DB) Get(ctx context.Context, id int64) (convdesk.AuditEvent, error) {
	var r eventRow
	err := db.ro.GetContext(ctx, &r, `SELECT `+eventColumns+` FROM audit_events WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.AuditEvent{}, convdesk.Errorf(convdesk.ENotFound, 0, "No audit event %d.", id)
	}
	if err != nil {
		return convdesk.AuditEvent{}, convdesk.Internal(err)
	}
	e, err := r.event()
	if err != nil {
		return e, convdesk.Internal(err)
	}
	return e, nil
}

// Query returns events matching q, newest first (or, with AfterID, the
// events just newer than AfterID, still returned newest first). Paging is by
// keyset on the event ID, never OFFSET.
func (db *DB) Query(ctx context.Context, q convdesk.AuditQuery) ([]convdesk.AuditEvent, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditPage
	}
	if limit > maxAuditPage {
		limit = maxAuditPage
	}
	plan, err := db.planAuditQuery(ctx, q)
	if err != nil {
		return nil, convdesk.Internal(err)
	}
	out := []convdesk.AuditEvent{}
	if plan.none {
		return out, nil
	}
	query, args := buildAuditQuery(q, plan, limit)
	rows, err := db.ro.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, convdesk.Internal(err)
	}
	defer rows.Close()
	var r eventRow
	for rows.Next() {
		if err := scanEventRow(rows, &r); err != nil {
			return nil, convdesk.Internal(err)
		}
		e, err := r.event()
		if err != nil {
			return nil, convdesk.Internal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, convdesk.Internal(err)
	}
	if q.AfterID > 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// The access paths a search can walk, each yielding event ids in order, so
// that the first page and a keyset position (id < BeforeID) are both a seek.
// A search walks one and checks every other filter on the way. The order is
// the preference when sampling cannot tell paths apart.
const (
	driveTicket        = iota // audit_by_ticket: a ticket names a handful of events
	driveSubject              // audit_page_by_subject
	driveText                 // audit_terms: the rarest term's events
	driveActor                // audit_page_by_actor
	driveOutcomeAction        // audit_by_outcome_action, one walk per action, merged
	driveAction               // audit_page_by_action, one walk per action, merged
	driveOutcome              // audit_page_by_outcome
	driveScan                 // the table itself (within the id range of a time range)
)

// auditPlan is how a search runs.
type auditPlan struct {
	driver int
	terms  []string // free-text terms, rarest first
	none   bool     // a term is in no event, so nothing matches
	// floorID, when not 0, is the smallest id to read (an export's chunk).
	floorID int64
}

// Sampling for planAuditQuery: how many events back from where the walk
// starts it looks, and how many matches in there it counts at most. A few
// thousand index entries per filter: a fraction of a millisecond.
const (
	planWindow = 5000
	planCap    = 500
	// textCost weighs a step of a free-text walk against a step of an
	// index walk: the former reads the row (for the LIKE check and the
	// other filters), the latter checks the filters in the index entry.
	textCost = 4
)

// planCandidate is a filter whose index the search could walk.
type planCandidate struct {
	driver  int
	column  string // "" for a free-text term
	value   string
	actions []convdesk.Action // for driveAction and driveOutcomeAction
}

// planAuditQuery chooses the access path. With one indexed filter it is that
// filter's index. With several it samples each one's index over the
// planWindow events where the walk starts and takes the one with the fewest
// matches there (for free text, the rarest term): the walk that reaches a
// page of results, or the end, in the fewest steps. Without sampling,
// "action:board.view outcome:partial" would walk 400,000 board views to find
// no partial outcome; with it, it walks the 1,800 partial outcomes.
func (db *DB) planAuditQuery(ctx context.Context, q convdesk.AuditQuery) (auditPlan, error) {
	var p auditPlan
	if q.Text != "" {
		p.terms = termsOf(q.Text)
	}
	var cands []planCandidate
	if q.SubjectUser != "" {
		cands = append(cands, planCandidate{driver: driveSubject, column: "subject_user", value: q.SubjectUser})
	}
	for _, t := range p.terms {
		cands = append(cands, planCandidate{driver: driveText, value: t})
	}
	if q.Actor != "" {
		cands = append(cands, planCandidate{driver: driveActor, column: "actor_name", value: q.Actor})
	}
	if len(q.Actions) > 0 {
		cands = append(cands, planCandidate{driver: driveAction, column: "action", actions: q.Actions})
	}
	if q.Outcome != "" {
		cands = append(cands, planCandidate{driver: driveOutcome, column: "outcome", value: string(q.Outcome)})
	}
	if q.Outcome != "" && len(q.Actions) > 0 {
		// Both at once: "failed edits" is a question auditors ask, and
		// their intersection can be far sparser than either.
		cands = append(cands, planCandidate{driver: driveOutcomeAction, column: "outcome", value: string(q.Outcome), actions: q.Actions})
	}
	paths := map[int]bool{}
	for _, c := range cands {
		paths[c.driver] = true
	}
	switch {
	case q.Ticket != "":
		p.driver = driveTicket
	case len(cands) == 0:
		p.driver = driveScan
	default:
		p.driver = cands[0].driver
	}
	// Several actions and nothing else: merging a walk per action costs a
	// seek per action and a random read per row, where reading the table in
	// order finds a page of a common group (edits, reads) in a few hundred
	// rows. Which is cheaper depends on how common the actions are.
	onlyActions := len(q.Actions) > 1 && len(cands) == 1 && q.Ticket == ""
	// Otherwise sample only when there is a choice to make: between paths,
	// or between terms (which also finds a term that is in no event).
	if !onlyActions && (q.Ticket != "" || len(paths) <= 1) && len(p.terms) <= 1 {
		return p, nil
	}
	if cands[0].driver == driveSubject && len(p.terms) <= 1 && !onlyActions {
		// One user's events are few next to the trail's: when they are
		// rare where the walk starts (under one in 50), walking them is
		// cheap whatever else the query asks, and counting the other
		// filters would cost more than it could save.
		counts, err := db.samplePlan(ctx, q, cands[:1])
		if err != nil {
			return p, err
		}
		if counts[0] < planWindow/50 {
			p.driver = driveSubject
			return p, nil
		}
	}
	counts, err := db.samplePlan(ctx, q, cands)
	if err != nil {
		return p, err
	}

	// A count at the cap only says "common": such paths tie.
	cost := map[int]int{}
	var terms []string
	var termCounts []int
	for i, c := range cands {
		n := counts[i]
		if c.column == "" {
			if n < 0 {
				p.none = true
				n = 0
			}
			terms = append(terms, c.value)
			termCounts = append(termCounts, n)
			continue
		}
		cost[c.driver] = n
	}
	if len(terms) > 0 {
		order := make([]int, len(terms))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return termCounts[order[a]] < termCounts[order[b]] })
		p.terms = make([]string, len(terms))
		for i, o := range order {
			p.terms[i] = terms[o]
		}
		cost[driveText] = min(termCounts[order[0]]*textCost, planCap)
	}
	if p.driver == driveTicket {
		return p, nil
	}
	if onlyActions {
		// At least one event in ten of the sample: a page of 50 is
		// within the next 500 or so.
		if cost[driveAction] >= planCap {
			p.driver = driveScan
		}
		return p, nil
	}
	best := planCap + 1
	for d := driveSubject; d < driveScan; d++ {
		if c, ok := cost[d]; ok && c < best {
			p.driver, best = d, c
		}
	}
	return p, nil
}

// samplePlan counts, in one statement, each candidate's matches among the
// planWindow events where the walk starts, up to planCap. For a term it
// also checks that the term is anywhere at all, reporting -1 when not.
func (db *DB) samplePlan(ctx context.Context, q convdesk.AuditQuery, cands []planCandidate) ([]int, error) {
	lower, lowerArgs, upper, upperArgs := idBounds(q, 0)
	var window string // {id} stands for the id column
	var windowArgs []any
	if q.AfterID > 0 {
		window = `{id} > ` + lower + ` AND {id} <= ` + lower + ` + ` + strconv.Itoa(planWindow)
		windowArgs = append(append(windowArgs, lowerArgs...), lowerArgs...)
	} else {
		if upper == "" {
			upper = `(SELECT COALESCE(MAX(id), 0) + 1 FROM audit_events)`
		}
		window = `{id} < ` + upper + ` AND {id} >= ` + upper + ` - ` + strconv.Itoa(planWindow)
		windowArgs = append(append(windowArgs, upperArgs...), upperArgs...)
	}
	inWindow := func(col string) string { return strings.ReplaceAll(window, "{id}", col) }
	capped := ` LIMIT ` + strconv.Itoa(planCap) + `))`
	var parts []string
	var args []any
	for _, c := range cands {
		if c.column == "" {
			parts = append(parts, `CASE WHEN EXISTS (SELECT 1 FROM audit_terms WHERE term = ?)
				THEN (SELECT COUNT(*) FROM (SELECT 1 FROM audit_terms WHERE term = ? AND `+inWindow("event_id")+capped+`
				ELSE -1 END`)
			args = append(append(args, c.value, c.value), windowArgs...)
			continue
		}
		if c.actions != nil {
			// All the actions at once: their walks together, counted once.
			cond := `action IN (` + placeholders(len(c.actions)) + `)`
			if c.driver == driveOutcomeAction {
				cond = `outcome = ? AND ` + cond
				args = append(args, c.value)
			}
			parts = append(parts, `(SELECT COUNT(*) FROM (SELECT 1 FROM audit_events WHERE `+cond+` AND `+inWindow("id")+capped)
			for _, a := range c.actions {
				args = append(args, string(a))
			}
			args = append(args, windowArgs...)
			continue
		}
		parts = append(parts, `(SELECT COUNT(*) FROM (SELECT 1 FROM audit_events WHERE `+c.column+` = ? AND `+inWindow("id")+capped)
		args = append(append(args, c.value), windowArgs...)
	}
	counts := make([]int, len(cands))
	dest := make([]any, len(cands))
	for i := range counts {
		dest[i] = &counts[i]
	}
	err := db.ro.QueryRowContext(ctx, `SELECT `+strings.Join(parts, ", "), args...).Scan(dest...)
	return counts, err
}

// clockSlack is how far back the recorded clock may step between events (in
// id order) for a time range to still become an exact id range. Events are
// appended by one writer that reads the time inside its transaction, so only
// a wall clock set back by more than this could make ids and times disagree
// by more.
const clockSlack = time.Hour

// idBounds returns the SQL expressions the id of a matching event is above
// and below ("" when unbounded): the keyset position, floor (when not 0: the
// smallest id wanted) and the id range of the time range, folded into one
// expression per side, since SQLite seeks on one bound per side and would
// test another row by row.
func idBounds(q convdesk.AuditQuery, floor int64) (lower string, lowerArgs []any, upper string, upperArgs []any) {
	if q.AfterID > 0 {
		lower, lowerArgs = "?", []any{q.AfterID}
	} else if q.BeforeID > 0 {
		upper, upperArgs = "?", []any{q.BeforeID}
	}
	if floor > 0 {
		lower, lowerArgs = foldBound("MAX", lower, lowerArgs, "?", floor-1)
	}
	if !q.After.IsZero() {
		// Events up to the last one recorded clockSlack before the range
		// began are older than the range.
		lower, lowerArgs = foldBound("MAX", lower, lowerArgs,
			`COALESCE((SELECT id FROM audit_events WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1), 0)`,
			q.After.UnixMicro()-clockSlack.Microseconds())
	}
	if !q.Before.IsZero() {
		// Events from the first one recorded clockSlack after the range
		// ended are newer than the range.
		upper, upperArgs = foldBound("MIN", upper, upperArgs,
			`COALESCE((SELECT id FROM audit_events WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807)`,
			q.Before.UnixMicro()+clockSlack.Microseconds())
	}
	return lower, lowerArgs, upper, upperArgs
}

// foldBound combines expr (taking arg) into bound with MIN or MAX.
func foldBound(fn, bound string, args []any, expr string, arg any) (string, []any) {
	if bound == "" {
		return expr, []any{arg}
	}
	return fn + `(` + bound + `, ` + expr + `)`, append(args, arg)
}

// auditSQL collects the conditions of one SELECT.
type auditSQL struct {
	where []string
	args  []any
}

func (s *auditSQL) add(cond string, args ...any) {
	s.where = append(s.where, cond)
	s.args = append(s.args, args...)
}

func (s *auditSQL) clause() string {
	if len(s.where) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(s.where, " AND ")
}

// buildAuditQuery writes the SQL for q as plan says; limit < 0 means no
// limit (an export).
//
// How it stays fast at a million events (docs/perf.md):
//   - it walks the one index planAuditQuery chose, in id order, so the first
//     page and a keyset position are both a seek; every other filter is
//     written with a unary + so SQLite does not walk that filter's index
//     instead, and is checked from the columns the page indexes carry
//     (migration 0007) before a row is read;
//   - several actions are one keyset walk each, merged: a single walk over
//     "action IN (...)" would sort every matching event first;
//   - a time range also becomes an id range, found in the time index (see
//     clockSlack), so the walk starts and stops at the range;
//   - free text walks the rarest term's events and probes the other terms.
func buildAuditQuery(q convdesk.AuditQuery, plan auditPlan, limit int) (string, []any) {
	driver := plan.driver
	if (driver == driveAction || driver == driveOutcomeAction) && len(q.Actions) > 1 {
		if limit > 0 {
			return buildActionsQuery(q, plan, driver, limit)
		}
		// An export reads every match anyway: walk the table, in order.
		driver = driveScan
	}
	var s auditSQL
	from := `audit_events`
	idCol := `audit_events.id`
	if driver == driveText {
		from = `audit_terms t0 JOIN audit_events ON audit_events.id = t0.event_id`
		idCol = `t0.event_id`
	}
	addAuditFilters(&s, q, plan, driver, idCol)
	order := "DESC"
	if q.AfterID > 0 {
		order = "ASC"
	}
	query := `SELECT ` + qualifiedEventColumns + ` FROM ` + from + s.clause() + ` ORDER BY ` + idCol + ` ` + order
	if limit > 0 {
		query += ` LIMIT ?`
		s.args = append(s.args, limit)
	}
	return query, s.args
}

// buildActionsQuery merges one keyset walk per action (driveAction: each
// reading only its index entries, the other filters being on columns the
// index carries; driveOutcomeAction: each on its outcome and action), and
// then reads the page's rows.
func buildActionsQuery(q convdesk.AuditQuery, plan auditPlan, driver, limit int) (string, []any) {
	order := "DESC"
	if q.AfterID > 0 {
		order = "ASC"
	}
	var args []any
	branches := make([]string, len(q.Actions))
	for i, a := range q.Actions {
		one := q
		one.Actions = []convdesk.Action{a}
		var s auditSQL
		addAuditFilters(&s, one, plan, driver, `audit_events.id`)
		branches[i] = `SELECT id FROM (SELECT audit_events.id AS id FROM audit_events` + s.clause() +
			` ORDER BY audit_events.id ` + order + ` LIMIT ?)`
		args = append(append(args, s.args...), limit)
	}
	query := `SELECT ` + qualifiedEventColumns + ` FROM audit_events WHERE audit_events.id IN (` +
		strings.Join(branches, ` UNION ALL `) + ` ORDER BY 1 ` + order + ` LIMIT ?) ORDER BY audit_events.id ` + order
	return query, append(args, limit)
}

// addAuditFilters adds every filter of q to s. The driver's own column is
// written plainly so that SQLite walks its index; the others carry a unary +.
func addAuditFilters(s *auditSQL, q convdesk.AuditQuery, plan auditPlan, driver int, idCol string) {
	col := func(name string, d int) string {
		if d == driver || driver == driveOutcomeAction && (d == driveOutcome || d == driveAction) {
			return `audit_events.` + name
		}
		return `+audit_events.` + name
	}
	if q.Ticket != "" {
		// The ticket index is partial (ticket <> ''): SQLite uses it only
		// when the query says so too.
		s.add(col("ticket", driveTicket)+` = ? AND `+col("ticket", driveTicket)+` <> ''`, q.Ticket)
	}
	if q.SubjectUser != "" {
		s.add(col("subject_user", driveSubject)+` = ?`, q.SubjectUser)
	}
	if q.Actor != "" {
		s.add(col("actor_name", driveActor)+` = ?`, q.Actor)
	}
	switch len(q.Actions) {
	case 0:
	case 1:
		s.add(col("action", driveAction)+` = ?`, string(q.Actions[0]))
	default:
		args := make([]any, len(q.Actions))
		for i, a := range q.Actions {
			args[i] = string(a)
		}
		s.add(col("action", -1)+` IN (`+placeholders(len(args))+`)`, args...)
	}
	if q.Outcome != "" {
		s.add(col("outcome", driveOutcome)+` = ?`, string(q.Outcome))
	}
	if !q.After.IsZero() {
		s.add(`+audit_events.at >= ?`, q.After.UnixMicro())
	}
	if !q.Before.IsZero() {
		s.add(`+audit_events.at < ?`, q.Before.UnixMicro())
	}
	lower, lowerArgs, upper, upperArgs := idBounds(q, plan.floorID)
	if lower != "" {
		s.add(idCol+` > `+lower, lowerArgs...)
	}
	if upper != "" {
		s.add(idCol+` < `+upper, upperArgs...)
	}
	if q.Text != "" {
		rest := plan.terms
		if driver == driveText {
			s.add(`t0.term = ?`, plan.terms[0])
			rest = plan.terms[1:]
		}
		for _, t := range rest {
			s.add(`EXISTS (SELECT 1 FROM audit_terms tn WHERE tn.term = ? AND tn.event_id = `+idCol+`)`, t)
		}
		// The term index narrows the events; LIKE on the JSON columns then
		// keeps only those containing the text itself.
		pat := "%" + escapeLike(jsonEscaped(q.Text)) + "%"
		s.add(`(audit_events.group_names LIKE ? ESCAPE '\' OR audit_events.conversation_ids LIKE ? ESCAPE '\')`, pat, pat)
	}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// escapeLike escapes LIKE's wildcards so user text matches literally.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// qualifiedEventColumns names eventColumns with their table, for joins.
var qualifiedEventColumns = func() string {
	cols := strings.Split(eventColumns, ",")
	for i, c := range cols {
		cols[i] = "audit_events." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// jsonEscaped returns s as it appears inside a JSON string, so LIKE on the JSON
// columns finds text with quotes or backslashes too.
func jsonEscaped(s string) string {
	b := mustJSON(s)
	return b[1 : len(b)-1]
}

// scanEventRow reads a row of eventColumns without sqlx's reflection.
func scanEventRow(rows *sql.Rows, r *eventRow) error {
	return rows.Scan(&r.ID, &r.At, &r.ActorID, &r.ActorName, &r.ActorRole, &r.ClientIP, &r.UserAgent,
		&r.RequestID, &r.ClientRequestID, &r.Action, &r.SubjectUser, &r.GroupNames, &r.ConversationIDs,
		&r.Ticket, &r.BeforeState, &r.AfterState, &r.Outcome, &r.ResultCode, &r.Results, &r.Message,
		&r.Detail, &r.DurationUS, &r.PrevHash, &r.Hash)
}
