package timfake

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SeedData is a whole data set for the fake: the accounts (users whose
// groups are shown, and peers) and the IM group chats. Load puts it in place
// of the demo data, so tests can give the fake exactly the users, lists and
// groups they need.
type SeedData struct {
	Users      []SeedUser
	GroupChats []SeedGroupChat
}

// SeedUser is an IM account with its conversation list and groups.
type SeedUser struct {
	ID    string
	Nick  string
	Image string // avatar URL; "" leaves the tag unset
	// Conversations are the user's recent-contact list, in any order: the
	// fake lists them newest MsgTime first, pinned ones before the rest.
	Conversations []SeedConversation
	// Groups are created in this order, with their members added in order.
	Groups []SeedGroup
}

// SeedConversation is one entry of a user's conversation list.
type SeedConversation struct {
	ID      string // c2c_<userID> or group_<groupID>
	MsgTime int64  // Unix seconds of the last message
	Pinned  bool
	// StandardMark is the mark as answers carry it: a bit string such as
	// "101" (bit 0 is the rightmost character); "" for none.
	StandardMark string
}

// SeedGroup is a conversation group and its members.
type SeedGroup struct {
	Name    string
	Members []string
}

// SeedGroupChat is an IM group (answered by get_group_info and
// group_msg_get_simple).
type SeedGroupChat struct {
	ID   string
	Name string
	Type string // "Public" when ""
}

// Load replaces every account (but the admin) and group chat with d, and
// clears faults and call counts. Limits are checked as the service checks
// them (a group name of 1–32 bytes, at most 20 groups, at most 1000 grouped
// conversations); nothing is loaded when d breaks one.
func (s *Server) Load(d SeedData) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	accounts := map[string]*account{}
	admin := s.accounts[s.cfg.Admin]
	if admin == nil {
		admin = newAccount(s.cfg.Admin, "Administrator", "")
	}
	accounts[s.cfg.Admin] = admin
	chats := map[string]*groupChat{}
	for _, g := range d.GroupChats {
		if g.ID == "" {
			return fmt.Errorf("timfake: a group chat needs an ID")
		}
		typ := cmp.Or(g.Type, "Public")
		chats[g.ID] = &groupChat{id: g.ID, typ: typ, name: g.Name, owner: s.cfg.Admin,
			createTime: demoEpoch, nextMsgSeq: int64(2 + hash32(g.ID)%30), members: []string{s.cfg.Admin}}
	}
	for _, u := range d.Users {
		if u.ID == "" || accounts[u.ID] != nil {
			return fmt.Errorf("timfake: user ID %q is empty or given twice", u.ID)
		}
		a := newAccount(u.ID, u.Nick, u.Image)
		accounts[u.ID] = a
		convs := slices.Clone(u.Conversations)
		// The service's list order: pinned first, then newest first.
		slices.SortStableFunc(convs, func(x, y SeedConversation) int {
			if x.Pinned != y.Pinned {
				if x.Pinned {
					return -1
				}
				return 1
			}
			return cmp.Compare(y.MsgTime, x.MsgTime)
		})
		for _, c := range convs {
			if !validConversationID(c.ID) || a.convIndex[c.ID] != nil {
				return fmt.Errorf("timfake: user %s: conversation %q is invalid or listed twice", u.ID, c.ID)
			}
			conv := &conversation{id: c.ID, msgTime: c.MsgTime, pinned: c.Pinned}
			if peer, ok := strings.CutPrefix(c.ID, "group_"); ok {
				conv.typ, conv.peer = 2, peer
			} else {
				conv.typ, conv.peer = 1, strings.TrimPrefix(c.ID, "c2c_")
			}
			a.convs = append(a.convs, conv)
			a.convIndex[c.ID] = conv
			if c.StandardMark != "" {
				a.marks[c.ID] = c.StandardMark
			}
		}
		for _, g := range u.Groups {
			grp, aerr := a.createGroup(g.Name)
			if aerr != nil {
				return fmt.Errorf("timfake: user %s: %w", u.ID, aerr)
			}
			for _, m := range g.Members {
				if code := a.addMember(grp, m, demoEpoch); code != 0 {
					return fmt.Errorf("timfake: user %s: adding %s to %q: code %d", u.ID, m, g.Name, code)
				}
			}
		}
	}
	s.accounts, s.groupChats = accounts, chats
	s.faults = nil
	s.stats = map[string]int{}
	s.calls = map[string][]time.Time{}
	return nil
}

// newAccount returns an account with no conversations or groups.
func newAccount(id, nick, image string) *account {
	return &account{id: id, nick: nick, image: image,
		marks: map[string]string{}, touched: map[string]int64{}, groupRefs: map[string]int{},
		convIndex: map[string]*conversation{}}
}
