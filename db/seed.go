package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"
)

// SettingDemoSeeded is the settings key SeedDemo sets to "1" once it has run.
const SettingDemoSeeded = "demo_seeded"

// Shape of the demo data.
const (
	seedUserCount = 300
	seedHistory   = 90 * 24 * time.Hour // last messages fall within this before base
	// seedPinnedBoost lifts pinned conversations' order keys above every
	// unpinned one (unpinned keys are Unix seconds, far below 2^40).
	seedPinnedBoost = int64(1) << 40
	// seedMaxParams keeps a batched INSERT under SQLite's historical limit of
	// 999 bound parameters per statement.
	seedMaxParams = 999
)

// SeedDemo fills a new database with deterministic demo data: about 300 end
// users with Chinese and English nicknames, their conversation lists (C2C chats
// with other demo users and group chats) with last messages spread over the 90
// days before base, and their conversation groups. The same base always gives
// the same rows. It writes in one transaction and records no audit event (it is
// not a staff action). It marks the database with the setting "demo_seeded" =
// "1"; on a database so marked it does nothing and returns nil.
//
// Order keys are derived as the SDK orders its list: pinned conversations
// above all others, then by last message time in whole seconds, so messages
// sent in the same second tie (listings break ties by conversation ID).
//
// Users with fixed shapes, for tests and demos:
//   - alice: exactly 5 groups (产品体验, 需求研发, 家人, VIP 客户, 朋友) over 60
//     conversations; 产品体验 and 需求研发 hold several each, some
//     conversations are in two groups and many in none.
//   - bob: no groups, 30 conversations.
//   - carol: exactly 20 groups (the limit) over 40 conversations, among them
//     "客户反馈与体验优化 2024" (exactly 32 bytes), "⭐ 重要客户" (emoji), "Work "
//     (a trailing space: created by an app, it breaks the rules for new names)
//     and "Later", which is empty.
//   - dave: at every limit at once: 20 groups, exactly 1,000 conversations in
//     at least one group, 5,000 conversations. Most of his C2C peers are
//     customers who are not demo users themselves (IDs cust######).
func (db *DB) SeedDemo(ctx context.Context, base time.Time) error {
	return db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var done string
		err := tx.GetContext(ctx, &done, `SELECT value FROM settings WHERE key = ?`, SettingDemoSeeded)
		switch {
		case err == nil && done == "1":
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("seed: read setting: %w", err)
		}
		var maxGroupID int64
		if err := tx.GetContext(ctx, &maxGroupID, `SELECT COALESCE(MAX(id), 0) FROM conv_groups`); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		boards := newSeedGenerator(base).generate()
		if err := insertSeed(ctx, tx, boards, maxGroupID+1); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		// Delete and insert rather than upsert: plain SQL, and the key may hold
		// something other than "1".
		if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, SettingDemoSeeded); err != nil {
			return fmt.Errorf("seed: mark seeded: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, '1')`, SettingDemoSeeded); err != nil {
			return fmt.Errorf("seed: mark seeded: %w", err)
		}
		return nil
	})
}

// seedUser is a demo end user.
type seedUser struct {
	ID       string
	Nickname string
}

// seedConversation is one entry of a demo user's conversation list.
type seedConversation struct {
	ID          string
	ShowName    string
	LastMessage string
	At          int64 // last message time, Unix microseconds
	Unread      int
	Pinned      bool
	Marks       int64
	OrderKey    int64
}

// seedGroup is one of a demo user's conversation groups; Members index into
// the board's conversations, AddedAt runs parallel to Members.
type seedGroup struct {
	Name      string
	CreatedAt int64
	Members   []int
	AddedAt   []int64
}

// seedBoard is everything seeded for one user.
type seedBoard struct {
	User          seedUser
	Conversations []seedConversation
	Groups        []seedGroup
}

// seedGenerator makes the demo data from a fixed random sequence.
type seedGenerator struct {
	rng     *rand.Rand
	base    int64 // Unix microseconds
	users   []seedUser
	userIDs map[string]bool
	chats   []seedGroupChat // the shared group chats, with IDs assigned
	chatIDs map[string]bool
}

func newSeedGenerator(base time.Time) *seedGenerator {
	return &seedGenerator{
		rng:     rand.New(rand.NewPCG(1, 2)),
		base:    base.UTC().Truncate(time.Microsecond).UnixMicro(),
		userIDs: map[string]bool{},
		chatIDs: map[string]bool{},
	}
}

// generate makes every user and board, in a fixed order.
func (g *seedGenerator) generate() []seedBoard {
	g.makeUsers()
	g.makeChats()
	boards := make([]seedBoard, len(g.users))
	for i, u := range g.users {
		b := seedBoard{User: u}
		switch u.ID {
		case "alice":
			b.Conversations = g.conversations(u.ID, 60)
			b.Groups = g.aliceGroups(len(b.Conversations))
		case "bob":
			b.Conversations = g.conversations(u.ID, 30)
		case "carol":
			b.Conversations = g.conversations(u.ID, 40)
			b.Groups = g.carolGroups(len(b.Conversations))
		case "dave":
			b.Conversations = g.conversations(u.ID, 5000)
			b.Groups = g.daveGroups(len(b.Conversations))
		default:
			n := 5 + min(g.rng.IntN(116), g.rng.IntN(116)) // 5–120, fewer as n grows
			b.Conversations = g.conversations(u.ID, n)
			b.Groups = g.randomGroups(n)
		}
		boards[i] = b
	}
	return boards
}

// makeUsers makes the fixed users, the quirky ones, then random people up to
// seedUserCount.
func (g *seedGenerator) makeUsers() {
	add := func(id, nick string) {
		g.users = append(g.users, seedUser{ID: id, Nickname: nick})
		g.userIDs[id] = true
	}
	add("alice", "Alice Chen 陈爱丽")
	add("bob", "Bob Li 李博")
	add("carol", "Carol Wang 王卡萝")
	add("dave", "Dave Zhang 张大卫 (客服)")
	for _, q := range seedQuirkyUsers {
		add(q.ID, q.Nickname)
	}
	for len(g.users) < seedUserCount {
		nick, id := g.person()
		add(g.uniqueUserID(id), nick)
	}
}

// person returns a random Chinese or English nickname and a user ID in one of
// the styles apps commonly assign.
func (g *seedGenerator) person() (nickname, id string) {
	r := g.rng
	if r.IntN(100) < 62 {
		f := seedFamilyNames[r.IntN(len(seedFamilyNames))]
		gv := seedGivenNames[r.IntN(len(seedGivenNames))]
		nickname = f.Hanzi + gv.Hanzi
		switch r.IntN(6) {
		case 0:
			id = f.Pinyin + gv.Pinyin
		case 1:
			id = f.Pinyin + gv.Pinyin + "_" + strconv.Itoa(10+r.IntN(90))
		case 2:
			id = f.Pinyin + "." + gv.Pinyin
		case 3:
			id = gv.Pinyin + "." + f.Pinyin
		case 4:
			id = f.Pinyin + gv.Pinyin + strconv.Itoa(1975+r.IntN(31))
		default:
			id = "user" + strconv.Itoa(1000+r.IntN(99000))
		}
		return nickname, id
	}
	first := seedFirstNames[r.IntN(len(seedFirstNames))]
	last := seedLastNames[r.IntN(len(seedLastNames))]
	nickname = first + " " + last
	if r.IntN(100) < 15 {
		nickname = first
	}
	lf, ll := strings.ToLower(first), strings.ToLower(last)
	switch r.IntN(6) {
	case 0, 1:
		id = lf + "." + ll
	case 2:
		id = lf + "_" + ll
	case 3:
		id = lf[:1] + ll
	case 4:
		id = lf + ll + strconv.Itoa(10+r.IntN(90))
	default:
		id = "user" + strconv.Itoa(1000+r.IntN(99000))
	}
	return nickname, id
}

// uniqueUserID returns id, or id with a numeric suffix when it is taken.
func (g *seedGenerator) uniqueUserID(id string) string {
	if len(id) > 28 {
		id = id[:28]
	}
	for cand := id; ; cand = id + strconv.Itoa(g.rng.IntN(1000)) {
		if !g.userIDs[cand] {
			return cand
		}
	}
}

// makeChats assigns IDs to the shared group chats: custom ones as given,
// the others as the server would (@TGS#...).
func (g *seedGenerator) makeChats() {
	for _, c := range seedGroupChats {
		if c.ID == "" {
			c.ID = g.autoGroupID()
		}
		g.chatIDs[c.ID] = true
		g.chats = append(g.chats, c)
	}
}

// autoGroupID returns a new server-style group ID such as @TGS#2C5SZEAEF.
func (g *seedGenerator) autoGroupID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for {
		b := []byte("@TGS#")
		b = append(b, byte('1'+g.rng.IntN(3)))
		for range 8 {
			b = append(b, alphabet[g.rng.IntN(len(alphabet))])
		}
		if id := string(b); !g.chatIDs[id] {
			g.chatIDs[id] = true
			return id
		}
	}
}

// conversations makes n conversations for user self: about a third group
// chats, the rest C2C chats with other demo users. When those run out (only
// dave has that many), the rest are chats with customers who are not demo
// users and per-customer service group chats.
func (g *seedGenerator) conversations(self string, n int) []seedConversation {
	r := g.rng
	peers := make([]int, 0, len(g.users))
	for i, u := range g.users {
		if u.ID != self {
			peers = append(peers, i)
		}
	}
	r.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	chats := r.Perm(len(g.chats))
	customers := map[string]bool{}

	convs := make([]seedConversation, 0, n)
	var prevAt int64
	for len(convs) < n {
		var c seedConversation
		group := false
		switch wantChat := r.IntN(100) < 35; {
		case wantChat && len(chats) > 0, len(peers) == 0 && len(chats) > 0:
			chat := g.chats[chats[0]]
			chats = chats[1:]
			c.ID, c.ShowName, group = "group_"+chat.ID, chat.Name, true
		case len(peers) > 0:
			u := g.users[peers[0]]
			peers = peers[1:]
			c.ID, c.ShowName = "c2c_"+u.ID, u.Nickname
		case r.IntN(100) < 70:
			id := "cust" + strconv.Itoa(100000+r.IntN(900000))
			if customers[id] {
				continue
			}
			customers[id] = true
			nick, _ := g.person()
			c.ID, c.ShowName = "c2c_"+id, nick
		default:
			format := seedServiceGroupFormats[r.IntN(len(seedServiceGroupFormats))]
			c.ID, c.ShowName, group = "group_"+g.autoGroupID(), fmt.Sprintf(format, r.IntN(10000)), true
		}
		c.At = g.messageTime(prevAt)
		prevAt = c.At
		c.LastMessage = g.message(c.ShowName, group)
		g.state(&c)
		convs = append(convs, c)
	}
	return convs
}

// messageTime returns a last-message time within seedHistory before base,
// weighted towards recent hours and days. Now and then a message shares the second of
// the previous one (a message forwarded to several chats at once), which gives
// the ties in order keys that real lists have.
func (g *seedGenerator) messageTime(prev int64) int64 {
	r := g.rng
	if prev != 0 && r.IntN(100) < 6 {
		at := prev - prev%1_000_000 + r.Int64N(1_000_000)
		return min(at, g.base)
	}
	// The smaller of two uniform draws: recent days are the busiest, and one
	// chat in eight was active in the last day.
	h := seedHistory.Microseconds()
	if r.IntN(100) < 12 {
		h = (24 * time.Hour).Microseconds()
	}
	age := min(r.Int64N(h), r.Int64N(h)) + 1
	return g.base - age
}

// message returns a last-message text: mostly in the language of the chat's
// name, sometimes a media placeholder; in group chats often with the sender.
func (g *seedGenerator) message(showName string, group bool) string {
	r := g.rng
	var text string
	switch p := r.IntN(100); {
	case p < 14:
		text = seedMessagesMedia[r.IntN(len(seedMessagesMedia))]
		if strings.Contains(text, "%") {
			text = fmt.Sprintf(text, 1+r.IntN(59))
		}
	case (p < 80) == hasCJK(showName):
		text = seedMessagesCN[r.IntN(len(seedMessagesCN))]
	default:
		text = seedMessagesEN[r.IntN(len(seedMessagesEN))]
	}
	if group && r.IntN(100) < 55 {
		text = g.users[r.IntN(len(g.users))].Nickname + ": " + text
	}
	return text
}

func hasCJK(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// state sets unread count (mostly 0), pinned (~5%), marks (~10%) and the
// order key.
func (g *seedGenerator) state(c *seedConversation) {
	r := g.rng
	switch p := r.IntN(100); {
	case p < 75:
	case p < 95:
		c.Unread = 1 + r.IntN(9)
	default:
		c.Unread = 10 + r.IntN(90)
	}
	c.Pinned = r.IntN(100) < 5
	if r.IntN(100) < 10 {
		marks := []int64{1, 1, 1, 2, 2, 4, 4, 8, 1 | 2, 1 | 4}
		c.Marks = marks[r.IntN(len(marks))]
	}
	c.OrderKey = seedOrderKey(c.Pinned, c.At)
}

// seedOrderKey derives a conversation's order key as the SDK does: pinned
// first, then by last message time (whole seconds).
func seedOrderKey(pinned bool, atMicros int64) int64 {
	k := atMicros / 1_000_000
	if pinned {
		k += seedPinnedBoost
	}
	return k
}

// newGroups makes groups with the given names, created in that order at
// random times between 400 and 30 days before base.
func (g *seedGenerator) newGroups(names []string) []seedGroup {
	const day = int64(24 * time.Hour / time.Microsecond)
	created := make([]int64, len(names))
	for i := range created {
		created[i] = g.base - 30*day - g.rng.Int64N(370*day)
	}
	slices.Sort(created)
	groups := make([]seedGroup, len(names))
	for i, name := range names {
		groups[i] = seedGroup{Name: name, CreatedAt: created[i]}
	}
	return groups
}

// addMember puts conversation c into group gr: the first members at creation
// (the SDK creates a group with its initial list), later ones at a random time
// since.
func (g *seedGenerator) addMember(gr *seedGroup, c int) {
	if slices.Contains(gr.Members, c) {
		return
	}
	at := gr.CreatedAt
	if len(gr.Members) > 0 && g.rng.IntN(100) < 60 {
		at += g.rng.Int64N(g.base - gr.CreatedAt)
	}
	gr.Members = append(gr.Members, c)
	gr.AddedAt = append(gr.AddedAt, at)
}

// randomGroups gives an ordinary user 0–20 groups (most 0–6), each holding
// a few of the user's n conversations.
func (g *seedGenerator) randomGroups(n int) []seedGroup {
	r := g.rng
	var count int
	switch p := r.IntN(100); {
	case p < 35:
		return nil
	case p < 92:
		count = 1 + r.IntN(6)
	default:
		count = 7 + r.IntN(14)
	}
	names := make([]string, count)
	for i, k := range r.Perm(len(seedGroupNames))[:count] {
		names[i] = seedGroupNames[k]
	}
	groups := g.newGroups(names)
	for i := range groups {
		size := 1 + r.IntN(min(n, 10))
		for _, c := range r.Perm(n)[:size] {
			g.addMember(&groups[i], c)
		}
	}
	return groups
}

// aliceGroups: 产品体验 and 需求研发 share two conversations; VIP 客户 shares
// one with 产品体验; 28 of the 60 conversations are in no group.
func (g *seedGenerator) aliceGroups(n int) []seedGroup {
	groups := g.newGroups([]string{"产品体验", "需求研发", "家人", "VIP 客户", "朋友"})
	p := g.rng.Perm(n)
	spans := [][2]int{{0, 8}, {6, 14}, {14, 20}, {20, 26}, {26, 32}}
	for i, s := range spans {
		for _, c := range p[s[0]:s[1]] {
			g.addMember(&groups[i], c)
		}
	}
	g.addMember(&groups[3], p[0])
	return groups
}

// seedCarolGroupNames are carol's 20 groups, edge cases included.
var seedCarolGroupNames = []string{
	"产品体验", "客户反馈与体验优化 2024", "需求研发", "⭐ 重要客户", "家人", "Work ", "VIP 客户",
	"朋友", "同事", "Travel", "重要", "Later", "学习", "健身", "Clients", "Side project",
	"同学", "待处理", "已完成", "🚀 Launch",
}

// carolGroups: the 20 names above, each holding 1–5 of her conversations
// except "Later", which is empty (its conversations were all removed).
func (g *seedGenerator) carolGroups(n int) []seedGroup {
	groups := g.newGroups(seedCarolGroupNames)
	for i := range groups {
		if groups[i].Name == "Later" {
			continue
		}
		for _, c := range g.rng.Perm(n)[:1+g.rng.IntN(5)] {
			g.addMember(&groups[i], c)
		}
	}
	return groups
}

// seedDaveGroupNames are dave's 20 groups: a support agent's triage.
var seedDaveGroupNames = []string{
	"待处理", "处理中", "已完成", "VIP 客户", "客户反馈", "投诉", "退款", "物流", "技术支持", "账号问题",
	"发票", "合作伙伴", "Follow up", "Important", "Later", "Archive", "华东", "华南", "海外客户", "Team",
}

// daveGroups puts exactly 1,000 of dave's conversations into his 20 groups,
// larger groups first, about one in seven of them into a second group too.
func (g *seedGenerator) daveGroups(n int) []seedGroup {
	r := g.rng
	groups := g.newGroups(seedDaveGroupNames)
	grouped := r.Perm(n)[:1000]
	for j, c := range grouped {
		first := j
		if j >= len(groups) {
			first = min(r.IntN(len(groups)), r.IntN(len(groups)))
		}
		g.addMember(&groups[first], c)
		if r.IntN(100) < 15 {
			second := (first + 1 + r.IntN(len(groups)-1)) % len(groups)
			g.addMember(&groups[second], c)
		}
	}
	return groups
}

// seedFaceURL is the avatar the app serves for name: its initials as SVG.
func seedFaceURL(name string) string {
	return "/avatars/initials.svg?name=" + url.QueryEscape(name)
}

// insertSeed writes the boards with batched, prepared INSERTs, numbering
// groups from firstGroupID.
func insertSeed(ctx context.Context, tx *sqlx.Tx, boards []seedBoard, firstGroupID int64) error {
	users, err := newSeedInserter(ctx, tx, "im_users", "id", "nickname", "nickname_fold", "face_url")
	if err != nil {
		return err
	}
	for _, b := range boards {
		u := b.User
		if err := users.add(u.ID, u.Nickname, strings.ToLower(u.Nickname), seedFaceURL(u.Nickname)); err != nil {
			return err
		}
	}
	if err := users.finish(); err != nil {
		return err
	}

	convs, err := newSeedInserter(ctx, tx, "conversations", "user_id", "conv_id", "show_name", "face_url",
		"last_message", "last_message_at", "unread_count", "pinned", "marks", "order_key")
	if err != nil {
		return err
	}
	for _, b := range boards {
		for _, c := range b.Conversations {
			pinned := 0
			if c.Pinned {
				pinned = 1
			}
			if err := convs.add(b.User.ID, c.ID, c.ShowName, seedFaceURL(c.ShowName), c.LastMessage,
				c.At, c.Unread, pinned, c.Marks, c.OrderKey); err != nil {
				return err
			}
		}
	}
	if err := convs.finish(); err != nil {
		return err
	}

	groups, err := newSeedInserter(ctx, tx, "conv_groups", "id", "user_id", "name", "created_at")
	if err != nil {
		return err
	}
	id := firstGroupID
	for _, b := range boards {
		for _, gr := range b.Groups {
			if err := groups.add(id, b.User.ID, gr.Name, gr.CreatedAt); err != nil {
				return err
			}
			id++
		}
	}
	if err := groups.finish(); err != nil {
		return err
	}

	members, err := newSeedInserter(ctx, tx, "group_members", "group_id", "user_id", "conv_id", "added_at")
	if err != nil {
		return err
	}
	id = firstGroupID
	for _, b := range boards {
		for _, gr := range b.Groups {
			for i, c := range gr.Members {
				if err := members.add(id, b.User.ID, b.Conversations[c].ID, gr.AddedAt[i]); err != nil {
					return err
				}
			}
			id++
		}
	}
	return members.finish()
}

// seedInserter batches rows into multi-row INSERTs through one prepared
// statement, sending the remainder on finish.
type seedInserter struct {
	ctx     context.Context
	tx      *sqlx.Tx
	table   string
	columns []string
	perStmt int
	full    *sql.Stmt
	args    []any
}

func newSeedInserter(ctx context.Context, tx *sqlx.Tx, table string, columns ...string) (*seedInserter, error) {
	in := &seedInserter{ctx: ctx, tx: tx, table: table, columns: columns, perStmt: seedMaxParams / len(columns)}
	stmt, err := tx.PrepareContext(ctx, in.query(in.perStmt))
	if err != nil {
		return nil, fmt.Errorf("prepare %s insert: %w", table, err)
	}
	in.full = stmt
	in.args = make([]any, 0, in.perStmt*len(columns))
	return in, nil
}

func (in *seedInserter) query(rows int) string {
	row := "(" + strings.Repeat("?, ", len(in.columns)-1) + "?)"
	var b strings.Builder
	b.WriteString("INSERT INTO " + in.table + " (" + strings.Join(in.columns, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// add queues one row, sending a full batch when it has one.
func (in *seedInserter) add(values ...any) error {
	in.args = append(in.args, values...)
	if len(in.args) < in.perStmt*len(in.columns) {
		return nil
	}
	_, err := in.full.ExecContext(in.ctx, in.args...)
	in.args = in.args[:0]
	if err != nil {
		in.full.Close()
		return fmt.Errorf("insert %s: %w", in.table, err)
	}
	return nil
}

// finish sends the remaining rows and releases the statement.
func (in *seedInserter) finish() error {
	defer in.full.Close()
	if len(in.args) == 0 {
		return nil
	}
	if _, err := in.tx.ExecContext(in.ctx, in.query(len(in.args)/len(in.columns)), in.args...); err != nil {
		return fmt.Errorf("insert %s: %w", in.table, err)
	}
	return nil
}
