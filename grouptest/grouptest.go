// Package grouptest is the contract suite every conversation-group backend
// (convdesk.GroupBackend) must pass. It is written once against the port and
// the domain's GroupService, so the promises the console makes — roles, IM
// limits and codes, per-conversation results, the no-op rule, the stale-board
// check, move as add-then-remove, listings and paging, and the audit event of
// every edit and refusal — hold whatever the backend.
//
// # What a backend's test provides
//
// A backend's own _test.go calls Run with a function that, for one subtest,
// makes a fresh backend holding exactly the data in a Seed and returns it as
// an Env:
//
//	func TestContract(t *testing.T) {
//		grouptest.Run(t, func(t *testing.T, seed grouptest.Seed) grouptest.Env {
//			b, log := newBackendAndLog(t) // fresh, empty
//			for _, u := range seed.Users { ... seed u by the backend's own means ... }
//			return grouptest.Env{Backend: b, Audit: log, Events: log.AllEvents}
//		})
//	}
//
// Seeding is the backend's business (SQL inserts, the in-memory helpers, a
// fake IM server's state), so the suite stays backend-agnostic: it only ever
// reads and writes through the port and the service. Seeded groups have no
// "last change" (LastChange nil) and any state token. Group IDs are whatever
// the backend assigns; the suite learns them from LoadBoard by name.
//
// Audit is the log the service records in (and, for a backend that commits
// with the audit log, the one the backend appends Write.Event to); Events
// lists everything in it, oldest first. The suite checks each edit's events
// in either shape: one event for a backend that commits with the audit log,
// or an attempt (outcome "pending") followed by its outcome (detail.attempt
// naming it) for a remote one. Refusals decided before any write are one
// failed event in both.
//
// Beyond storing, the suite asks two things of a backend: that it remember
// the Write.Change of its last write (LoadBoard and Snapshot report it as
// LastChange, and a stale-board conflict names the staff member from it),
// and that its own refusals carry the domain's reason (an unknown user:
// ENotFound, 50001, convdesk.ReasonUserNotFound).
//
// Capabilities matter in one place: user search by ID prefix is checked only
// when Capabilities().ListUsers is true and by nickname only when
// NicknameSearch is; an exact ID must always be found.
package grouptest

import (
	"context"
	"testing"

	"github.com/convdesk/convdesk"
)

// Env is one backend ready for a subtest.
type Env struct {
	Backend convdesk.GroupBackend
	Audit   convdesk.AttemptLog
	// Events returns every audit event recorded so far, oldest first.
	Events func() ([]convdesk.AuditEvent, error)
}

// Seed is the data a subtest starts from.
type Seed struct {
	Users []User
}

// User is an end user to seed, with conversations and groups.
type User struct {
	ID       string
	Nickname string
	// Conversations are the user's list; their Groups field is ignored.
	Conversations []convdesk.Conversation
	// Groups are created in this order (the board lists them so).
	Groups []Group
}

// Group is a seeded group and its members (all in the user's list).
type Group struct {
	Name    string
	Members []convdesk.ConversationID
}

// NewEnv makes a fresh backend holding seed.
type NewEnv func(t *testing.T, seed Seed) Env

// Run runs the whole contract against backends made by newEnv.
func Run(t *testing.T, newEnv NewEnv) {
	t.Run("Reads", func(t *testing.T) { testReads(t, newEnv) })
	t.Run("List", func(t *testing.T) { testList(t, newEnv) })
	t.Run("Roles", func(t *testing.T) { testRoles(t, newEnv) })
	t.Run("Create", func(t *testing.T) { testCreate(t, newEnv) })
	t.Run("Rename", func(t *testing.T) { testRename(t, newEnv) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newEnv) })
	t.Run("Add", func(t *testing.T) { testAdd(t, newEnv) })
	t.Run("Remove", func(t *testing.T) { testRemove(t, newEnv) })
	t.Run("Move", func(t *testing.T) { testMove(t, newEnv) })
	t.Run("GroupedLimit", func(t *testing.T) { testGroupedLimit(t, newEnv) })
	t.Run("Conflict", func(t *testing.T) { testConflict(t, newEnv) })
}

// harness is one subtest's backend, service and seed.
type harness struct {
	t    *testing.T
	env  Env
	svc  *convdesk.GroupService
	seed Seed
	ctx  context.Context
}

func start(t *testing.T, newEnv NewEnv, seed Seed) *harness {
	t.Helper()
	env := newEnv(t, seed)
	return &harness{t: t, env: env, svc: convdesk.NewGroupService(env.Backend, env.Audit, nil), seed: seed, ctx: t.Context()}
}
