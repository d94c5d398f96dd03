package memgroups_test

import (
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/grouptest"
	"github.com/convdesk/convdesk/memgroups"
)

// seed fills b with seed through its seeding methods.
func seed(t *testing.T, b *memgroups.Backend, seed grouptest.Seed) {
	t.Helper()
	for _, u := range seed.Users {
		if err := b.AddUser(u.ID, u.Nickname); err != nil {
			t.Fatal(err)
		}
		if err := b.AddConversations(u.ID, u.Conversations...); err != nil {
			t.Fatal(err)
		}
		for _, g := range u.Groups {
			if _, err := b.AddGroup(u.ID, g.Name, g.Members...); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func events(log *memgroups.AuditLog) func() ([]convdesk.AuditEvent, error) {
	return func() ([]convdesk.AuditEvent, error) { return log.Events(), nil }
}

func TestContract(t *testing.T) {
	t.Run("Atomic", func(t *testing.T) {
		grouptest.Run(t, func(t *testing.T, s grouptest.Seed) grouptest.Env {
			log := memgroups.NewAuditLog()
			b := memgroups.NewAtomic(log)
			seed(t, b, s)
			return grouptest.Env{Backend: b, Audit: log, Events: events(log)}
		})
	})
	t.Run("Remote", func(t *testing.T) {
		grouptest.Run(t, func(t *testing.T, s grouptest.Seed) grouptest.Env {
			log := memgroups.NewAuditLog()
			b := memgroups.NewRemote()
			seed(t, b, s)
			return grouptest.Env{Backend: b, Audit: log, Events: events(log)}
		})
	})
}
