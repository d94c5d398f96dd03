package memgroups_test

import (
	"testing"

	"github.com/convdesk/convdesk"
)

// With RequireTicket on, the service refuses every edit and reveal without a
// ticket (blank after trimming), whoever calls it: the console or a tool
// (which sends no board state), and records the refusal.
func TestServiceRequireTicket(t *testing.T) {
	for _, fixture := range []struct {
		name string
		new  func(*testing.T) *remoteFixture
	}{{"Remote", newRemoteFixture}, {"Atomic", atomicFixture}} {
		t.Run(fixture.name, func(t *testing.T) {
			t.Run("ErrTicketRequired", func(t *testing.T) {
				for name, ticket := range map[string]string{"Empty": "", "Blank": " \t\u3000"} {
					t.Run(name, func(t *testing.T) {
						f := fixture.new(t)
						f.svc.RequireTicket = true
						req := f.req()
						req.Ticket = ticket
						_, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: req, Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
						wantTicketRefusal(t, f, err, convdesk.ActionConversationAdd)
						if got := f.groupsOf(p(3)); len(got) != 0 {
							t.Fatalf("p3 is in %q after a refusal", got)
						}
					})
				}
			})
			t.Run("ErrTicketRequiredTool", func(t *testing.T) {
				f := fixture.new(t)
				f.svc.RequireTicket = true
				a := agent
				a.Ticket, a.Actor.Name = "", "tool"
				_, err := f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: convdesk.EditRequest{Attribution: a, UserID: "u1"}, Name: "C"})
				wantTicketRefusal(t, f, err, convdesk.ActionGroupCreate)
			})
			t.Run("ErrTicketRequiredReveal", func(t *testing.T) {
				f := fixture.new(t)
				f.svc.RequireTicket = true
				a := agent
				a.Ticket = ""
				_, err := f.svc.RevealLastMessage(f.ctx, a, "u1", p(0))
				wantTicketRefusal(t, f, err, convdesk.ActionConversationReveal)
			})
			t.Run("OK", func(t *testing.T) {
				f := fixture.new(t)
				f.svc.RequireTicket = true
				res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
				if err != nil || res.Outcome != convdesk.OutcomeOK {
					t.Fatalf("outcome %v, err %v", res.Outcome, err)
				}
				if _, err := f.svc.RevealLastMessage(f.ctx, agent, "u1", p(0)); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("OKNotRequired", func(t *testing.T) {
				f := fixture.new(t)
				req := f.req()
				req.Ticket = ""
				if _, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: req, Group: f.a, Conversations: []convdesk.ConversationID{p(3)}}); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func wantTicketRefusal(t *testing.T, f *remoteFixture, err error, action convdesk.Action) {
	t.Helper()
	if convdesk.KindOf(err) != convdesk.EInvalid || convdesk.ReasonOf(err) != convdesk.ReasonTicketRequired {
		t.Fatalf("err = %v, want EInvalid %s", err, convdesk.ReasonTicketRequired)
	}
	evs := f.log.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want the one refusal", len(evs))
	}
	if ev := evs[0]; ev.Action != action || ev.Outcome != convdesk.OutcomeFailed || ev.Detail["reason"] != string(convdesk.ReasonTicketRequired) {
		t.Fatalf("event %s %s %v, want a failed %s with reason %s", ev.Action, ev.Outcome, ev.Detail, action, convdesk.ReasonTicketRequired)
	}
}
