package timfake

import (
	"fmt"
	"slices"
	"strings"
)

// Demo data. Deterministic: the same every start.
//
//   - alice: 7 groups (one of them empty, one named 产品体验), ~100
//     conversations including a deleted peer ("ghost": account_check
//     NotImported, portrait_get 40003) and a disbanded group chat
//     ("@TGS#9DISBANDED": get_group_info 10010).
//   - carol: 20 groups (at the limit: creating one more answers 51010).
//   - dave: 20 groups, 1000 grouped conversations (at the limit: 51008), 3000
//     conversations.
//   - erin: no groups, a handful of conversations.
//   - frank: an account with nothing.
//   - user0001…user3000: peers with nicknames.
const (
	DeletedPeer      = "ghost"
	DisbandedGroupID = "@TGS#9DISBANDED"
	demoEpoch        = int64(1767225600) // 2026-01-01T00:00:00Z: newest message time
	peerCount        = 3000
)

var demoGroupChats = []groupChat{
	{id: "@TGS#1PRODUCT", typ: "Private", name: "Product team"},
	{id: "@TGS#2HIKERS", typ: "Public", name: "Weekend hikers"},
	{id: "@TGS#3SUPPORT", typ: "Private", name: "Support escalations"},
	{id: "@TGS#4FAMILY", typ: "Private", name: "家人"},
	{id: "@TGS#5BOOKS", typ: "Public", name: "Book club"},
	{id: "@TGS#6RELEASE", typ: "ChatRoom", name: "Release train"},
	{id: "@TGS#7DESIGN", typ: "Community", name: "Design crit"},
	{id: "@TGS#8GAMES", typ: "Public", name: "Game night"},
}

var namedPeers = [][2]string{
	{"alice", "Alice Chen"}, {"bob", "Bob Li"}, {"carol", "Carol Wang"}, {"dave", "Dave Zhou"},
	{"erin", "Erin 王"}, {"frank", "Frank"}, {"grace", "Grace Hopper"}, {"heidi", "Heidi"},
	{"ivan", "Ivan"}, {"judy", "Judy 李"},
}

var firstNames = []string{"Ming", "Li", "Wei", "Fang", "Jun", "Ana", "Sam", "Noor", "Kenji", "Olu"}
var lastNames = []string{"Zhang", "Liu", "Chen", "Yang", "Huang", "Silva", "Kim", "Haddad", "Sato", "Ade"}

func peerID(i int) string { return fmt.Sprintf("user%04d", i) }

// seed fills s with the demo data.
func (s *Server) seed() {
	s.accounts = map[string]*account{}
	s.groupChats = map[string]*groupChat{}
	add := func(id, nick string) *account {
		a := &account{id: id, nick: nick, image: "https://example.com/avatars/" + id + ".png",
			marks: map[string]string{}, touched: map[string]int64{}, groupRefs: map[string]int{},
			convIndex: map[string]*conversation{}}
		s.accounts[id] = a
		return a
	}
	add(s.cfg.Admin, "Administrator")
	for _, p := range namedPeers {
		add(p[0], p[1])
	}
	for i := 1; i <= peerCount; i++ {
		nick := firstNames[i%len(firstNames)] + " " + lastNames[(i/len(firstNames))%len(lastNames)]
		if i%7 == 0 {
			nick = fmt.Sprintf("用户%04d", i)
		}
		a := add(peerID(i), nick)
		if i%11 == 0 {
			a.image = "" // some peers never set an avatar: the tag is absent
		}
	}
	for i, g := range demoGroupChats {
		g := g
		g.createTime = demoEpoch - int64(86400*(30+i))
		g.nextMsgSeq = int64(20 + hash32(g.id)%60)
		g.faceURL = "https://example.com/groups/" + strings.TrimPrefix(g.id, "@TGS#") + ".png"
		g.owner = "bob"
		g.members = []string{"alice", "bob", "carol", "dave", peerID(i + 1)}
		s.groupChats[g.id] = &g
	}

	// alice: 7 groups, ~100 conversations.
	alice := s.accounts["alice"]
	aliceConvs := []string{"c2c_bob", "group_@TGS#1PRODUCT", "c2c_carol", "c2c_dave", "c2c_erin",
		"c2c_" + DeletedPeer, "group_" + DisbandedGroupID}
	for _, g := range demoGroupChats[1:6] {
		aliceConvs = append(aliceConvs, "group_"+g.id)
	}
	for i := 1; i <= 90; i++ {
		aliceConvs = append(aliceConvs, "c2c_"+peerID(i))
	}
	s.setConversations(alice, aliceConvs, 2)
	s.setGroups(alice, map[string][]string{
		"Family":        {"c2c_bob", "group_@TGS#4FAMILY", "c2c_erin"},
		"Work":          {"group_@TGS#1PRODUCT", "c2c_carol", "c2c_dave", "group_@TGS#3SUPPORT", "c2c_" + DeletedPeer},
		"VIP customers": {"c2c_user0001", "c2c_user0002", "c2c_user0003", "c2c_carol"},
		"产品体验":          {"c2c_user0010", "c2c_user0011", "group_" + DisbandedGroupID},
		"Hiking":        {"group_@TGS#2HIKERS", "c2c_user0020"},
		"Book club":     {"group_@TGS#5BOOKS", "c2c_user0030", "c2c_user0031"},
		"Later":         nil,
	}, []string{"Family", "Work", "VIP customers", "产品体验", "Hiking", "Book club", "Later"})
	alice.marks["c2c_carol"] = "1"     // starred
	alice.marks["c2c_user0005"] = "10" // unread mark, in no group

	// carol: 20 groups, 200 conversations.
	carol := s.accounts["carol"]
	var carolConvs []string
	for i := 100; i < 300; i++ {
		carolConvs = append(carolConvs, "c2c_"+peerID(i))
	}
	s.setConversations(carol, carolConvs, 1)
	carolGroups := map[string][]string{}
	var carolOrder []string
	for g := 1; g <= 20; g++ {
		name := fmt.Sprintf("Group %02d", g)
		carolOrder = append(carolOrder, name)
		for k := 0; k < 3+g%3; k++ {
			carolGroups[name] = append(carolGroups[name], carolConvs[(g-1)*5+k])
		}
	}
	s.setGroups(carol, carolGroups, carolOrder)

	// dave: 20 groups, 1000 grouped, 3000 conversations.
	dave := s.accounts["dave"]
	var daveConvs []string
	for _, g := range demoGroupChats {
		daveConvs = append(daveConvs, "group_"+g.id)
	}
	daveConvs = append(daveConvs, "group_"+DisbandedGroupID, "c2c_"+DeletedPeer)
	for i := 1; len(daveConvs) < 3000; i++ {
		daveConvs = append(daveConvs, "c2c_"+peerID(i))
	}
	s.setConversations(dave, daveConvs, 3)
	daveGroups := map[string][]string{}
	var daveOrder []string
	for g := 0; g < 20; g++ {
		name := fmt.Sprintf("Team %02d", g+1)
		daveOrder = append(daveOrder, name)
		daveGroups[name] = slices.Clone(daveConvs[g*50 : (g+1)*50])
	}
	// A few conversations in two groups: still 1000 distinct.
	daveGroups["Team 01"] = append(daveGroups["Team 01"], daveConvs[60], daveConvs[70])
	s.setGroups(dave, daveGroups, daveOrder)

	// erin: no groups.
	s.setConversations(s.accounts["erin"], []string{"c2c_alice", "c2c_bob", "group_@TGS#2HIKERS", "c2c_user0042", "c2c_user0043"}, 0)
}

// setConversations gives a the conversation list ids, newest first, ten
// minutes apart; the first `pinned` are pinned.
func (s *Server) setConversations(a *account, ids []string, pinned int) {
	for i, id := range ids {
		c := &conversation{id: id, msgTime: demoEpoch - int64(i)*600, pinned: i < pinned}
		if strings.HasPrefix(id, "group_") {
			c.typ, c.peer = 2, strings.TrimPrefix(id, "group_")
		} else {
			c.typ, c.peer = 1, strings.TrimPrefix(id, "c2c_")
		}
		a.convs = append(a.convs, c)
		a.convIndex[id] = c
	}
}

func (s *Server) setGroups(a *account, groups map[string][]string, order []string) {
	for _, name := range order {
		g, err := a.createGroup(name)
		if err != nil {
			panic("timfake demo data: " + err.Error())
		}
		for _, m := range groups[name] {
			if code := a.addMember(g, m, demoEpoch); code != 0 {
				panic(fmt.Sprintf("timfake demo data: adding %s to %s: %d", m, name, code))
			}
		}
	}
}
