package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// generateBatch is how many generated events one transaction appends.
const generateBatch = 20000

// GenerateAuditEvents appends n realistic, correctly chained events (many
// actors, thousands of subjects, every action, CJK and Latin group names),
// spread over the days before base, and checkpoints after each batch when an
// audit key is set. It exists so the audit pages and benchmarks can be tried
// at scale; progress, when not nil, is told how many are done.
func (db *DB) GenerateAuditEvents(ctx context.Context, n int, base time.Time, seed uint64, progress func(done int)) error {
	rng := rand.New(rand.NewPCG(seed, 7))
	gen := auditGenerator{rng: rng}
	// Spread the events evenly over the 180 days before base, after any
	// existing event so the trail's times stay in order.
	span := 180 * 24 * time.Hour
	start := base.Add(-span)
	var lastAt int64
	if err := db.rw.GetContext(ctx, &lastAt, `SELECT COALESCE(MAX(at), 0) FROM audit_events`); err != nil {
		return err
	}
	if t := time.UnixMicro(lastAt); t.After(start) {
		start = t
	}
	step := base.Sub(start) / time.Duration(max(n, 1))
	if step <= 0 {
		step = time.Microsecond
	}
	at := start
	for done := 0; done < n; {
		batch := min(generateBatch, n-done)
		err := db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			var head struct {
				ID   int64  `db:"id"`
				Hash string `db:"hash"`
			}
			if err := tx.GetContext(ctx, &head, `SELECT COALESCE(MAX(id), 0) AS id, COALESCE((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), '') AS hash FROM audit_events`); err != nil {
				return err
			}
			events, err := newSeedInserter(ctx, tx, "audit_events", "id", "at", "actor_id", "actor_name", "actor_role",
				"client_ip", "user_agent", "request_id", "client_request_id", "action", "subject_user", "group_names",
				"conversation_ids", "ticket", "before_state", "after_state", "outcome", "result_code", "results",
				"message", "detail", "duration_us", "prev_hash", "hash")
			if err != nil {
				return err
			}
			terms, err := newSeedInserter(ctx, tx, "audit_terms", "term", "event_id")
			if err != nil {
				return err
			}
			prev := head.Hash
			for i := 0; i < batch; i++ {
				at = at.Add(step)
				e := gen.event()
				e.ID = head.ID + int64(i) + 1
				e.Time = at.UTC().Truncate(time.Microsecond)
				e.PrevHash = prev
				e.Hash = e.ComputeHash()
				prev = e.Hash
				r := rowFromEvent(e)
				if err := events.add(r.ID, r.At, r.ActorID, r.ActorName, r.ActorRole, r.ClientIP, r.UserAgent,
					r.RequestID, r.ClientRequestID, r.Action, r.SubjectUser, r.GroupNames, r.ConversationIDs,
					r.Ticket, r.BeforeState, r.AfterState, r.Outcome, r.ResultCode, r.Results, r.Message,
					r.Detail, r.DurationUS, r.PrevHash, r.Hash); err != nil {
					return err
				}
				for _, t := range eventTerms(e) {
					if err := terms.add(t, e.ID); err != nil {
						return err
					}
				}
			}
			if err := events.finish(); err != nil {
				return err
			}
			return terms.finish()
		})
		if err != nil {
			return fmt.Errorf("generate audit events: %w", err)
		}
		done += batch
		if db.auditKey != nil {
			if err := db.Checkpoint(ctx); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(done)
		}
	}
	return nil
}

type auditGenerator struct {
	rng *rand.Rand
}

var (
	genActors = []convdesk.Actor{
		{StaffID: 1, Name: "admin", Role: convdesk.RoleAdmin}, {StaffID: 2, Name: "agent", Role: convdesk.RoleAgent},
		{StaffID: 3, Name: "viewer", Role: convdesk.RoleViewer}, {StaffID: 4, Name: "auditor", Role: convdesk.RoleAuditor},
	}
	genAgentNames = []string{"li.wei", "zhang.min", "chen.jing", "wang.lei", "emma", "oliver", "sophia", "liam",
		"liu.yang", "zhao.xin", "huang.ting", "noah", "ava", "mia", "lucas", "zhou.qi"}
	genAgents = func() []convdesk.Actor {
		out := append([]convdesk.Actor(nil), genActors...)
		for i, n := range genAgentNames {
			role := convdesk.RoleAgent
			if i%5 == 4 {
				role = convdesk.RoleViewer
			}
			out = append(out, convdesk.Actor{StaffID: int64(10 + i), Name: n, Role: role})
		}
		return out
	}()
	genUserAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
	}
)

// event makes one plausible event: mostly reads and edits by agents.
func (g *auditGenerator) event() *convdesk.AuditEvent {
	r := g.rng
	actor := genAgents[r.IntN(len(genAgents))]
	var subject string
	switch {
	case r.IntN(10) == 0:
		subject = []string{"alice", "bob", "carol", "dave"}[r.IntN(4)]
	default:
		subject = fmt.Sprintf("user%05d", r.IntN(5000))
	}
	a := convdesk.Attribution{
		Actor:     actor,
		ClientIP:  fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), 1+r.IntN(254)),
		UserAgent: genUserAgents[r.IntN(len(genUserAgents))],
		RequestID: fmt.Sprintf("%016x", r.Uint64()),
	}
	if r.IntN(3) > 0 {
		a.Ticket = fmt.Sprintf("TCK-%d", 1000+r.IntN(9000))
	}
	action := g.action()
	a.Actor = g.actorFor(a.Actor, action)
	e := convdesk.NewAuditEvent(a, action, subject)
	e.Duration = time.Duration(200+r.IntN(4000)) * time.Microsecond
	name := func() string { return seedGroupNames[r.IntN(len(seedGroupNames))] }
	conv := func() convdesk.ConversationID {
		if r.IntN(3) == 0 {
			return convdesk.ConversationID("group_" + seedGroupChats[r.IntN(len(seedGroupChats))].ID)
		}
		return convdesk.ConversationID(fmt.Sprintf("c2c_user%05d", r.IntN(5000)))
	}
	switch {
	case action.IsEdit():
		from, to := name(), name()
		c := []convdesk.ConversationID{conv()}
		if r.IntN(4) == 0 {
			c = append(c, conv())
		}
		e.GroupNames = []string{from}
		if action == convdesk.ActionConversationMove || action == convdesk.ActionGroupRename {
			e.GroupNames = append(e.GroupNames, to)
		}
		if action != convdesk.ActionGroupRename && action != convdesk.ActionGroupDelete {
			e.ConversationIDs = c
		}
		e.Before = []convdesk.GroupState{{Name: from, Exists: true, Conversations: c}}
		e.After = []convdesk.GroupState{{Name: from, Exists: action != convdesk.ActionGroupDelete}}
		for _, id := range e.ConversationIDs {
			e.Results = append(e.Results, convdesk.OperationResult{ConversationID: id})
		}
		switch x := r.IntN(20); {
		case x == 0:
			e.Outcome, e.ResultCode, e.Message = convdesk.OutcomeFailed, convdesk.CodeGroupLimit, "This user already has 20 groups, the most the app allows."
		case x == 1 && len(e.Results) > 1:
			e.Results[1].Code, e.Results[1].Info = convdesk.CodeConversationNotFound, "not in this user's conversation list"
			e.Outcome, e.ResultCode = convdesk.OutcomePartial, convdesk.CodeConversationNotFound
		case x == 2:
			e.Outcome, e.Message = convdesk.OutcomeFailed, "This board changed since you loaded it."
		}
	case action == convdesk.ActionConversationReveal:
		e.ConversationIDs = []convdesk.ConversationID{conv()}
	case action == convdesk.ActionUserSearch:
		e.SubjectUser = ""
		e.Detail = map[string]string{"query": subject[:2+r.IntN(len(subject)-2)]}
	case action == convdesk.ActionAuthLoginFailed || action == convdesk.ActionAuthLocked:
		e.SubjectUser = ""
		e.Outcome = convdesk.OutcomeFailed
	case action.IsEdit() == false && len(action) > 6 && action[:6] == "staff.":
		e.SubjectUser = ""
		e.Detail = map[string]string{"staff": genAgentNames[r.IntN(len(genAgentNames))]}
	case action == convdesk.ActionAuditExport || action == convdesk.ActionAuditVerify:
		e.SubjectUser = ""
		e.Detail = map[string]string{"filter": "user:" + subject}
	case action == convdesk.ActionAuthLogin || action == convdesk.ActionAuthLogout:
		e.SubjectUser = ""
	}
	return e
}

// action picks an action with realistic weights: reads dominate.
func (g *auditGenerator) action() convdesk.Action {
	x := g.rng.IntN(100)
	switch {
	case x < 40:
		return convdesk.ActionBoardView
	case x < 52:
		return convdesk.ActionUserSearch
	case x < 60:
		return convdesk.ActionConversationReveal
	case x < 82:
		edits := convdesk.ActionGroups["edits"]
		return edits[g.rng.IntN(len(edits))]
	case x < 94:
		signins := convdesk.ActionGroups["signins"]
		return signins[g.rng.IntN(len(signins))]
	case x < 98:
		staff := convdesk.ActionGroups["staff"]
		return staff[g.rng.IntN(len(staff))]
	}
	// Not the trail's own start-up records (witness started, break
	// accepted): made-up ones would only mislead.
	var audit []convdesk.Action
	for _, a := range convdesk.ActionGroups["audit"] {
		if a != convdesk.ActionAuditWitnessStarted && a != convdesk.ActionAuditBreakAccepted {
			audit = append(audit, a)
		}
	}
	return audit[g.rng.IntN(len(audit))]
}

// actorFor keeps actor when their role may do action, else picks one whose
// role may: viewers do not edit, auditors only use the audit pages, only
// admins manage staff.
func (g *auditGenerator) actorFor(actor convdesk.Actor, action convdesk.Action) convdesk.Actor {
	may := func(r convdesk.Role) bool {
		switch {
		case action.IsEdit(), action == convdesk.ActionConversationReveal:
			return r.CanEditBoards()
		case action == convdesk.ActionBoardView, action == convdesk.ActionUserSearch:
			return r.CanViewBoards()
		case action == convdesk.ActionAuditExport, action == convdesk.ActionAuditVerify:
			return r.CanAudit()
		case strings.HasPrefix(string(action), "staff."):
			return r.CanManageStaff()
		}
		return true
	}
	if may(actor.Role) {
		return actor
	}
	var ok []convdesk.Actor
	for _, x := range genAgents {
		if may(x.Role) {
			ok = append(ok, x)
		}
	}
	return ok[g.rng.IntN(len(ok))]
}
