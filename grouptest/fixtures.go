package grouptest

import (
	"fmt"
	"time"

	"github.com/convdesk/convdesk"
)

// The seeded groups of the standard user, by name.
const (
	nameA    = "产品体验" // 12 bytes: c0 c1 c2
	nameB    = "需求研发" // c3
	nameC    = "C"    // c0
	nameMany = "Many" // c6 … c17
	userID   = "u1"
	otherID  = "u2"
)

// standardConvs is how many conversations the standard user has.
const standardConvs = 24

// seedTime is when seeded messages were sent.
var seedTime = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// conv is the ID of the standard user's i-th conversation: one-to-one chats
// at even indexes, group chats at odd ones.
func conv(i int) convdesk.ConversationID {
	if i%2 == 1 {
		return convdesk.ConversationID(fmt.Sprintf("group_g%02d", i))
	}
	return convdesk.ConversationID(fmt.Sprintf("c2c_p%02d", i))
}

func convs(idx ...int) []convdesk.ConversationID {
	out := make([]convdesk.ConversationID, len(idx))
	for i, x := range idx {
		out[i] = conv(x)
	}
	return out
}

func convRange(from, to int) []convdesk.ConversationID {
	var out []convdesk.ConversationID
	for i := from; i < to; i++ {
		out = append(out, conv(i))
	}
	return out
}

// standardUser is u1 (张三): 24 conversations and four groups. Order keys
// fall with the index, but c20…c23 share one key, so ties are broken by ID
// (c2c_p20, c2c_p22, group_g21, group_g23). Marks and show names vary so
// that every listing filter selects a proper subset.
func standardUser() User {
	u := User{ID: userID, Nickname: "张三"}
	for i := range standardConvs {
		c := convdesk.Conversation{
			ID: conv(i), ShowName: fmt.Sprintf("Peer %d", i), LastMessage: fmt.Sprintf("secret %d", i),
			LastMessageAt: seedTime.Add(-time.Duration(i) * time.Minute), UnreadCount: i % 3,
			OrderKey: int64(1000 - 10*i),
		}
		if i >= 20 {
			c.OrderKey = 5
		}
		if i%6 == 1 {
			c.ShowName = fmt.Sprintf("客户 %d", i)
		}
		if i%4 == 0 {
			c.Marks |= convdesk.MarkStar
		}
		if i%5 == 0 {
			c.Marks |= convdesk.MarkUnread
		}
		if i%7 == 3 {
			c.Marks |= convdesk.MarkFold
		}
		u.Conversations = append(u.Conversations, c)
	}
	u.Groups = []Group{
		{Name: nameA, Members: convs(0, 1, 2)},
		{Name: nameB, Members: convs(3)},
		{Name: nameC, Members: convs(0)},
		{Name: nameMany, Members: convRange(6, 18)},
	}
	return u
}

// otherUser is u2, whose group "Theirs" is another user's group to u1.
func otherUser() User {
	return User{ID: otherID, Nickname: "李四 Lisa",
		Conversations: []convdesk.Conversation{{ID: "c2c_x1", ShowName: "X", OrderKey: 1}},
		Groups:        []Group{{Name: "Theirs", Members: []convdesk.ConversationID{"c2c_x1"}}},
	}
}

// standardSeed is u1 and u2 plus a few users only searches find.
func standardSeed() Seed {
	return Seed{Users: []User{standardUser(), otherUser(),
		{ID: "u10", Nickname: "王小明"},
		{ID: "lisa", Nickname: "Lisa Chen"},
		{ID: "Mixed.Case", Nickname: "Ölaf"},
	}}
}

// seedWithGroups is u1 with n groups G00…, the first holding c0.
func seedWithGroups(n int) Seed {
	u := User{ID: userID, Nickname: "满", Conversations: standardUser().Conversations[:3]}
	for i := range n {
		g := Group{Name: fmt.Sprintf("G%02d", i)}
		if i == 0 {
			g.Members = convs(0)
		}
		u.Groups = append(u.Groups, g)
	}
	return Seed{Users: []User{u}}
}

// busyConv is the busy user's i-th conversation.
func busyConv(i int) convdesk.ConversationID {
	return convdesk.ConversationID(fmt.Sprintf("c2c_b%04d", i))
}

// seedBusy is u1 one conversation short of the grouped limit: 1003
// conversations, the first 999 in group A, group B empty.
func seedBusy() Seed {
	const n = convdesk.MaxGroupedConversations + 3
	u := User{ID: userID, Nickname: "忙"}
	grouped := make([]convdesk.ConversationID, 0, convdesk.MaxGroupedConversations-1)
	for i := range n {
		u.Conversations = append(u.Conversations, convdesk.Conversation{ID: busyConv(i), ShowName: fmt.Sprint(i), OrderKey: int64(n - i)})
		if i < convdesk.MaxGroupedConversations-1 {
			grouped = append(grouped, busyConv(i))
		}
	}
	u.Groups = []Group{{Name: "A", Members: grouped}, {Name: "B"}}
	return Seed{Users: []User{u}}
}

func attribution(name string, role convdesk.Role) convdesk.Attribution {
	return convdesk.Attribution{
		Actor:    convdesk.Actor{StaffID: int64(len(name)), Name: name, Role: role},
		ClientIP: "192.0.2.7", UserAgent: "grouptest", RequestID: "req-" + name, Ticket: "T-100",
	}
}

var (
	alice  = attribution("alice", convdesk.RoleAgent)
	bob    = attribution("bob", convdesk.RoleAdmin)
	vera   = attribution("vera", convdesk.RoleViewer)
	audrey = attribution("audrey", convdesk.RoleAuditor)
	nobody = attribution("nobody", "")
)
