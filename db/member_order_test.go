package db

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// A group's listing follows conversations' order keys even when one changes
// after the conversation joined the group (the members' copy follows it).
func TestGroupListingFollowsOrderKeyChanges(t *testing.T) {
	ctx := context.Background()
	d := mustOpen(t)
	if err := d.SeedDemo(ctx, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	b, err := d.LoadBoard(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	g := b.Groups[0]
	f := convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g.ID}}
	page, err := d.ListConversations(ctx, "alice", f, "", 50)
	if err != nil || len(page.Conversations) < 2 {
		t.Fatalf("listing: %v %v", page, err)
	}
	last := page.Conversations[len(page.Conversations)-1]
	if _, err := d.rw.Exec(`UPDATE conversations SET order_key = ? WHERE user_id = 'alice' AND conv_id = ?`,
		page.Conversations[0].OrderKey+1, string(last.ID)); err != nil {
		t.Fatal(err)
	}
	page, err = d.ListConversations(ctx, "alice", f, "", 50)
	if err != nil || page.Conversations[0].ID != last.ID {
		t.Fatalf("after the order key changed, first is %v (%v), want %s", page.Conversations[0].ID, err, last.ID)
	}
	var plan string
	rows, _ := d.ro.Query(`EXPLAIN QUERY PLAN SELECT m.conv_id FROM group_members m CROSS JOIN conversations c
		WHERE m.group_id = ? AND c.user_id = m.user_id AND c.conv_id = m.conv_id ORDER BY m.order_key DESC, m.conv_id LIMIT 20`, string(g.ID))
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan += detail + "\n"
	}
	rows.Close()
	if want := "group_members_in_order"; !strings.Contains(plan, want) || strings.Contains(plan, "TEMP B-TREE") {
		t.Fatalf("a group's listing does not walk %s:\n%s", want, plan)
	}
}
