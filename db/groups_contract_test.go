package db

import (
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/grouptest"
)

// TestGroupsContract runs the backend contract suite on the embedded
// backend, each subtest on a fresh database seeded by SQL.
func TestGroupsContract(t *testing.T) {
	grouptest.Run(t, func(t *testing.T, seed grouptest.Seed) grouptest.Env {
		f := newGroupFixture(t)
		for _, u := range seed.Users {
			f.exec(`INSERT INTO im_users (id, nickname, nickname_fold) VALUES (?, ?, ?)`, u.ID, u.Nickname, strings.ToLower(u.Nickname))
			f.convs(u.ID, u.Conversations...)
			for _, g := range u.Groups {
				f.group(u.ID, g.Name, g.Members...)
			}
		}
		return grouptest.Env{
			Backend: f.d.Groups(),
			Audit:   f.d,
			Events:  func() ([]convdesk.AuditEvent, error) { return f.events(), nil },
		}
	})
}
