package tencentim_test

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/grouptest"
	"github.com/convdesk/convdesk/memgroups"
	"github.com/convdesk/convdesk/tencentim"
	"github.com/convdesk/convdesk/tencentim/timfake"
)

// seedData turns a contract-suite seed into the fake's data: each seeded
// user an account; each C2C peer an account whose nickname is the
// conversation's show name, each group chat an IM group of that name; the
// order key as the last message time; marks as the bit string the service
// answers with.
func seedData(seed grouptest.Seed) timfake.SeedData {
	var d timfake.SeedData
	users := map[string]bool{}
	for _, u := range seed.Users {
		users[u.ID] = true
	}
	peers, chats := map[string]bool{}, map[string]bool{}
	for _, u := range seed.Users {
		su := timfake.SeedUser{ID: u.ID, Nick: u.Nickname}
		for _, c := range u.Conversations {
			sc := timfake.SeedConversation{ID: string(c.ID), MsgTime: c.OrderKey, Pinned: c.Pinned}
			if c.Marks != 0 {
				sc.StandardMark = strconv.FormatUint(uint64(c.Marks), 2)
			}
			su.Conversations = append(su.Conversations, sc)
			peer := c.ID.PeerID()
			switch c.ID.Type() {
			case convdesk.ConversationC2C:
				if !users[peer] && !peers[peer] {
					peers[peer] = true
					d.Users = append(d.Users, timfake.SeedUser{ID: peer, Nick: c.ShowName})
				}
			case convdesk.ConversationGroup:
				if !chats[peer] {
					chats[peer] = true
					d.GroupChats = append(d.GroupChats, timfake.SeedGroupChat{ID: peer, Name: c.ShowName})
				}
			}
		}
		for _, g := range u.Groups {
			sg := timfake.SeedGroup{Name: g.Name}
			for _, m := range g.Members {
				sg.Members = append(sg.Members, string(m))
			}
			su.Groups = append(su.Groups, sg)
		}
		d.Users = append(d.Users, su)
	}
	return d
}

// backendEnv is a backend over a fresh in-process fake holding seed, with
// an in-memory audit log.
type backendEnv struct {
	fake    *timfake.Running
	client  *tencentim.Client
	backend *tencentim.Backend
	log     *memgroups.AuditLog
	svc     *convdesk.GroupService
}

func newBackendEnv(t *testing.T, seed grouptest.Seed, fakeCfg timfake.Config, mod func(*tencentim.Config)) *backendEnv {
	t.Helper()
	if fakeCfg.PageSize == 0 {
		// Small pages exercise paging; the busy seed (1003
		// conversations) gets the default so it stays quick.
		fakeCfg.PageSize = 10
		for _, u := range seed.Users {
			if len(u.Conversations) > 100 {
				fakeCfg.PageSize = timfake.DefaultPageSize
			}
		}
	}
	fake := startFake(t, fakeCfg)
	if err := fake.Load(seedData(seed)); err != nil {
		t.Fatal(err)
	}
	c := fakeClient(t, fake, func(cfg *tencentim.Config) {
		cfg.Timeout = 10 * time.Second // generous: the machine may be busy
		if mod != nil {
			mod(cfg)
		}
	})
	b := tencentim.NewBackend(c, tencentim.BackendOptions{Logger: slog.New(slog.DiscardHandler)})
	log := memgroups.NewAuditLog()
	svc := convdesk.NewGroupService(b, log, nil)
	svc.RecordTimeout = 5 * time.Second
	return &backendEnv{fake: fake, client: c, backend: b, log: log, svc: svc}
}

func TestContract(t *testing.T) {
	grouptest.Run(t, func(t *testing.T, seed grouptest.Seed) grouptest.Env {
		e := newBackendEnv(t, seed, timfake.Config{}, nil)
		return grouptest.Env{Backend: e.backend, Audit: e.log,
			Events: func() ([]convdesk.AuditEvent, error) { return e.log.Events(), nil }}
	})
}
