package timfake

import (
	"fmt"
	"hash/fnv"
	"slices"
)

// IM codes the fake answers with (tencent-im.md §1, §3.3; part 2 §2–3).
const (
	codeUserNotImported = 50001
	codeBadParam        = 50002
	codeInternal        = 50004
	codeGroupedLimit    = 51008
	codeGroupNotFound   = 51009
	codeGroupLimit      = 51010
	codeGroupName       = 51011
	codeProfileParam    = 40001
	codeProfileNoUser   = 40003
	codeProfileTag      = 40009
	codeGroupParam      = 10004
	codeGroupGone       = 10010
	codeAccountParam    = 70402
	codeOpenIMParam     = 90001
	codePeerNotFound    = 70107
	codeRateLimit       = 60007
	codeBadURL          = 60002
	codeBadJSON         = 60003
	codeBadSDKAppID     = 60006
	codeNotAdmin        = 60010
	codeNoSDKAppID      = 60012
	codeNoResource      = 60009
	codeSigExpired      = 70001
	codeSigParse        = 70003
	codeSigMismatch     = 70009
	codeSigIdentifier   = 70013
	codeSigSDKAppID     = 70014
)

// Limits the fake enforces, as the docs state them.
const (
	maxGroups        = 20
	maxGroupNameLen  = 32 // bytes
	maxGrouped       = 1000
	maxCreateItems   = 100
	maxUpdateItems   = 100 // undocumented; the fake picks the create cap
	maxSearchItems   = 300
	maxAccountCheck  = 100
	maxPortraitGet   = 100
	maxGroupInfo     = 50
	maxUnreadPeers   = 10
	maxGroupMsgs     = 20
	maxCustomMarkLen = 256
)

// apiError is an answer with ActionStatus FAIL.
type apiError struct {
	code int
	info string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.code, e.info) }

func fail(code int, format string, args ...any) *apiError {
	return &apiError{code: code, info: fmt.Sprintf(format, args...)}
}

// account is an IM account: a demo user whose groups are shown, or a peer.
type account struct {
	id    string
	nick  string
	image string

	groups      []*convGroup // in creation order
	nextGroupID int64
	convs       []*conversation   // the recent-contact list, in list order
	marks       map[string]string // conversation ID → StandardMark bit string
	touched     map[string]int64  // conversation ID → last group/mark change (Unix s)
	groupRefs   map[string]int    // conversation ID → number of groups holding it (> 0 only)
	convIndex   map[string]*conversation
}

// convGroup is a conversation group. Members are conversation IDs in the
// order they were added; a conversation may be in several groups.
type convGroup struct {
	id      int64
	name    string
	members []string
}

// conversation is an entry of the recent-contact list.
type conversation struct {
	id      string // c2c_<user> or group_<group>
	typ     int    // 1 C2C, 2 group
	peer    string // user ID or group ID
	msgTime int64
	pinned  bool
}

// groupChat is an IM group (for get_group_info and group messages).
type groupChat struct {
	id, typ, name, faceURL, owner string
	createTime                    int64
	nextMsgSeq                    int64
	members                       []string
}

func (a *account) group(name string) *convGroup {
	for _, g := range a.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

// groupedCount is the number of distinct conversations in any group.
func (a *account) groupedCount() int { return len(a.groupRefs) }

func (a *account) isGrouped(conv string) bool { return a.groupRefs[conv] > 0 }

func (a *account) unref(conv string) {
	if a.groupRefs[conv]--; a.groupRefs[conv] <= 0 {
		delete(a.groupRefs, conv)
	}
}

// groupIDsOf lists the IDs of the groups conv is in, in group order.
func (a *account) groupIDsOf(conv string) []int64 {
	var ids []int64
	for _, g := range a.groups {
		if slices.Contains(g.members, conv) {
			ids = append(ids, g.id)
		}
	}
	return ids
}

// createGroup adds an empty group, checking name and count.
func (a *account) createGroup(name string) (*convGroup, *apiError) {
	if err := checkGroupName(name); err != nil {
		return nil, err
	}
	if a.group(name) != nil {
		// Undocumented; the fake refuses duplicates as a bad parameter.
		return nil, fail(codeBadParam, "group %q already exists", name)
	}
	if len(a.groups) >= maxGroups {
		return nil, fail(codeGroupLimit, "more than %d conversation groups", maxGroups)
	}
	a.nextGroupID++
	g := &convGroup{id: a.nextGroupID, name: name}
	a.groups = append(a.groups, g)
	return g, nil
}

func checkGroupName(name string) *apiError {
	if len(name) == 0 || len(name) > maxGroupNameLen {
		return fail(codeGroupName, "group name must be 1..%d bytes, got %d", maxGroupNameLen, len(name))
	}
	return nil
}

// addMember adds conv to g; it returns the per-item result code.
func (a *account) addMember(g *convGroup, conv string, now int64) int {
	if slices.Contains(g.members, conv) {
		return 0 // undocumented; adding a member again is a no-op
	}
	if !a.isGrouped(conv) && a.groupedCount() >= maxGrouped {
		return codeGroupedLimit
	}
	g.members = append(g.members, conv)
	a.groupRefs[conv]++
	a.touched[conv] = now
	return 0
}

// removeMember removes conv from g; removing a non-member is a no-op
// (undocumented).
func (a *account) removeMember(g *convGroup, conv string, now int64) int {
	if i := slices.Index(g.members, conv); i >= 0 {
		g.members = slices.Delete(g.members, i, i+1)
		a.unref(conv)
		a.touched[conv] = now
	}
	return 0
}

func (a *account) renameGroup(oldName, newName string) (*convGroup, *apiError) {
	g := a.group(oldName)
	if g == nil {
		return nil, fail(codeGroupNotFound, "group %q does not exist", oldName)
	}
	if err := checkGroupName(newName); err != nil {
		return nil, err
	}
	if newName != oldName && a.group(newName) != nil {
		return nil, fail(codeBadParam, "group %q already exists", newName)
	}
	g.name = newName
	return g, nil
}

func (a *account) deleteGroup(name string, now int64) (*convGroup, *apiError) {
	g := a.group(name)
	if g == nil {
		return nil, fail(codeGroupNotFound, "group %q does not exist", name)
	}
	for _, m := range g.members {
		a.unref(m)
		a.touched[m] = now
	}
	a.groups = slices.DeleteFunc(a.groups, func(x *convGroup) bool { return x == g })
	return g, nil
}

// entries lists the conversations that have group or mark data, in the
// order of the conversation list, then any others by ID.
func (a *account) entries() []string {
	has := make(map[string]bool, len(a.groupRefs)+len(a.marks))
	for id := range a.groupRefs {
		has[id] = true
	}
	for id := range a.marks {
		has[id] = true
	}
	var out []string
	for _, c := range a.convs {
		if has[c.id] {
			out = append(out, c.id)
			delete(has, c.id)
		}
	}
	var rest []string
	for id := range has {
		rest = append(rest, id)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// hash32 gives deterministic small numbers (unread counts, message counts).
func hash32(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}
