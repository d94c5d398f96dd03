package tencentim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convdesk/convdesk/tencentim"
	"github.com/convdesk/convdesk/tencentim/timfake"
)

// startFake serves a fake on 127.0.0.1:0 for the test.
func startFake(t *testing.T, cfg timfake.Config) *timfake.Running {
	t.Helper()
	r, err := timfake.Start("", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// fakeClient is a client of the fake with the demo credentials.
func fakeClient(t *testing.T, fake *timfake.Running, mod func(*tencentim.Config)) *tencentim.Client {
	t.Helper()
	cfg := tencentim.Config{SDKAppID: timfake.DefaultSDKAppID, Admin: timfake.DefaultAdmin,
		SecretKey: timfake.DemoSecretKey, Endpoint: fake.URL, Timeout: 2 * time.Second, RateShare: 1,
		Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	c, err := tencentim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustErr(t *testing.T, err error) *tencentim.Error {
	t.Helper()
	e, ok := tencentim.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *tencentim.Error", err, err)
	}
	return e
}

func wantRefused(t *testing.T, err error, code int) {
	t.Helper()
	e := mustErr(t, err)
	if e.Kind != tencentim.KindRefused || e.Code != code || e.Outcome() != tencentim.NotApplied {
		t.Fatalf("got %v (kind %s, code %d), want refused with %d", err, e.Kind, e.Code, code)
	}
}

func peers(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("user%04d", i))
	}
	return out
}

func TestReadsAgainstFake(t *testing.T) {
	fake := startFake(t, timfake.Config{PageSize: 7})
	c := fakeClient(t, fake, nil)
	ctx := context.Background()

	t.Run("AccountCheck", func(t *testing.T) {
		res, err := c.AccountCheck(ctx, []string{"alice", timfake.DeletedPeer})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || !res[0].Exists() || res[1].Exists() || res[1].AccountStatus != tencentim.AccountNotImported {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("PortraitGetBatches", func(t *testing.T) {
		fake.ResetStats()
		ids := append(peers(1, 150), timfake.DeletedPeer)
		res, err := c.PortraitGet(ctx, ids, []string{tencentim.TagNick, tencentim.TagImage, "Tag_Profile_IM_Level"})
		if err != nil {
			t.Fatal(err)
		}
		if got := fake.Stats()[string(tencentim.CommandPortraitGet)]; got != 2 {
			t.Fatalf("%d calls for 151 users, want 2", got)
		}
		if len(res.UserProfileItem) != 151 || !slices.Equal(res.FailAccount, []string{timfake.DeletedPeer}) {
			t.Fatalf("%d items, failed %v", len(res.UserProfileItem), res.FailAccount)
		}
		first, ghost := res.UserProfileItem[0], res.UserProfileItem[150]
		if first.ToAccount != "user0001" || first.Tag(tencentim.TagNick) == "" || first.Tag(tencentim.TagImage) == "" {
			t.Fatalf("first %+v", first)
		}
		if ghost.ResultCode != 40003 {
			t.Fatalf("deleted user: %+v", ghost)
		}
		if res.UserProfileItem[10].Tag(tencentim.TagImage) != "" { // user0011 never set an avatar
			t.Fatalf("absent tag: %+v", res.UserProfileItem[10])
		}
	})
	t.Run("GetGroupInfoBatches", func(t *testing.T) {
		fake.ResetStats()
		ids := []string{"@TGS#1PRODUCT", timfake.DisbandedGroupID}
		for len(ids) < 60 {
			ids = append(ids, fmt.Sprintf("@TGS#X%d", len(ids)))
		}
		res, err := c.GetGroupInfo(ctx, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := fake.Stats()[string(tencentim.CommandGetGroupInfo)]; got != 2 {
			t.Fatalf("%d calls for 60 groups, want 2", got)
		}
		if len(res) != 60 || res[0].Name != "Product team" || res[0].Type != "Private" || res[0].ErrorCode != 0 {
			t.Fatalf("first %+v", res[0])
		}
		if res[1].ErrorCode != 10010 {
			t.Fatalf("disbanded %+v", res[1])
		}
	})
	t.Run("GetAllContactGroups", func(t *testing.T) {
		fake.ResetStats()
		res, err := c.GetAllContactGroups(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		names := groupNames(res.Groups)
		want := []string{"Family", "Work", "VIP customers", "产品体验", "Hiking", "Book club", "Later"}
		if !slices.Equal(names, want) {
			t.Fatalf("groups %v, want %v", names, want)
		}
		// 19 distinct grouped conversations + 1 marked-only = 20 entries, 7 per page.
		if len(res.Contacts) != 20 || res.Pages != 3 || fake.Stats()[string(tencentim.CommandGetContactGroup)] != 3 {
			t.Fatalf("%d entries in %d pages", len(res.Contacts), res.Pages)
		}
		for _, e := range res.Contacts {
			if e.ToAccount == "carol" && (len(e.ContactGroupID) != 2 || e.StandardMark != "1") {
				t.Fatalf("carol is in Work and VIP and starred: %+v", e)
			}
		}
	})
	t.Run("GetFullList", func(t *testing.T) {
		fake.ResetStats()
		res, err := c.GetFullList(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != 102 || res.Pages != 15 {
			t.Fatalf("%d items in %d pages, want 102 in 15", len(res.Items), res.Pages)
		}
		if res.Items[0].ToAccount != "bob" || res.Items[0].TopFlag != 1 || res.Items[1].GroupID != "@TGS#1PRODUCT" || res.Items[1].Type != tencentim.ContactGroup {
			t.Fatalf("pinned first: %+v %+v", res.Items[0], res.Items[1])
		}
		seen := map[string]bool{}
		for _, it := range res.Items {
			id := it.Contact().ConversationID()
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		if !seen["c2c_"+timfake.DeletedPeer] || !seen["group_"+timfake.DisbandedGroupID] {
			t.Fatal("deleted peer or disbanded group missing from the list")
		}
	})
	t.Run("SearchContactGroup", func(t *testing.T) {
		res, err := c.SearchContactGroup(ctx, "alice", []tencentim.ContactItem{tencentim.C2C("carol"), tencentim.GroupChat("@TGS#2HIKERS"), tencentim.C2C("user0090")})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.ContactResultItem) != 3 || len(res.ContactResultItem[0].ContactGroupID) != 2 ||
			res.ContactResultItem[1].ToGroupID != "@TGS#2HIKERS" || len(res.ContactResultItem[2].ContactGroupID) != 0 || len(res.GroupItem) != 7 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("C2CUnread", func(t *testing.T) {
		fake.ResetStats()
		total, err := c.C2CUnread(ctx, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		if total.AllC2CUnreadMsgNum == 0 {
			t.Fatal("no unread total")
		}
		res, err := c.C2CUnread(ctx, "alice", append(peers(1, 11), timfake.DeletedPeer))
		if err != nil {
			t.Fatal(err)
		}
		if got := fake.Stats()[string(tencentim.CommandC2CUnreadMsgNum)]; got != 3 {
			t.Fatalf("%d calls, want 1 + 2", got)
		}
		if len(res.C2CUnreadMsgNumList) != 11 || len(res.ErrorList) != 1 || res.ErrorList[0].ErrorCode != 70107 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("AdminGetRoamMsgNewest", func(t *testing.T) {
		res, err := c.AdminGetRoamMsg(ctx, tencentim.RoamMsgRequest{OperatorAccount: "alice", PeerAccount: "bob", MaxCnt: 1, MaxTime: time.Now().Unix()})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.MsgList) != 1 || res.Complete != 0 || res.MsgList[0].MsgBody[0].Text() == "" {
			t.Fatalf("%+v", res)
		}
		next, err := c.AdminGetRoamMsg(ctx, tencentim.RoamMsgRequest{OperatorAccount: "alice", PeerAccount: "bob", MaxCnt: 20,
			MaxTime: res.LastMsgTime, LastMsgKey: res.LastMsgKey})
		if err != nil {
			t.Fatal(err)
		}
		if next.Complete != 1 || len(next.MsgList) == 0 || next.MsgList[len(next.MsgList)-1].MsgTimeStamp >= res.MsgList[0].MsgTimeStamp {
			t.Fatalf("continuation %+v", next)
		}
	})
	t.Run("GroupMsgGetSimple", func(t *testing.T) {
		res, err := c.GroupMsgGetSimple(ctx, tencentim.GroupMsgRequest{GroupID: "@TGS#1PRODUCT", ReqMsgNumber: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RspMsgList) != 1 || res.RspMsgList[0].MsgSeq == 0 {
			t.Fatalf("%+v", res)
		}
		_, err = c.GroupMsgGetSimple(ctx, tencentim.GroupMsgRequest{GroupID: timfake.DisbandedGroupID, ReqMsgNumber: 1})
		wantRefused(t, err, 10010)
	})
	t.Run("UnknownUser", func(t *testing.T) {
		_, err := c.GetContactGroup(ctx, "nobody", 0)
		wantRefused(t, err, 50001)
	})
}

func groupNames(groups []tencentim.GroupItem) []string {
	var names []string
	for _, g := range groups {
		names = append(names, g.GroupName)
	}
	return names
}

// TestGetAllContactGroupsGroupItemsOnFirstPageOnly covers the other reading
// of the docs: GroupItem only on the first page. Empty groups still show.
func TestGetAllContactGroupsGroupItemsOnFirstPageOnly(t *testing.T) {
	fake := startFake(t, timfake.Config{PageSize: 5, GroupItemsFirstPageOnly: true})
	c := fakeClient(t, fake, nil)
	res, err := c.GetAllContactGroups(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != 7 || res.Pages != 4 || len(res.Contacts) != 20 {
		t.Fatalf("%d groups, %d entries, %d pages", len(res.Groups), len(res.Contacts), res.Pages)
	}
}

func TestBoardAtTheLimitsAgainstFake(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	c := fakeClient(t, fake, nil)
	ctx := context.Background()
	groups, err := c.GetAllContactGroups(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.GetFullList(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.Groups) != 20 || len(groups.Contacts) != 1000 || groups.Pages != 10 {
		t.Fatalf("%d groups, %d grouped, %d pages", len(groups.Groups), len(groups.Contacts), groups.Pages)
	}
	if len(list.Items) != 3000 || list.Pages != 30 {
		t.Fatalf("%d conversations in %d pages", len(list.Items), list.Pages)
	}
}

func TestWritesAgainstFake(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	c := fakeClient(t, fake, nil)
	ctx := context.Background()

	t.Run("CreateRenameAddRemoveDelete", func(t *testing.T) {
		created, err := c.CreateContactGroup(ctx, "erin", "Friends", []tencentim.ContactItem{tencentim.C2C("alice"), tencentim.GroupChat("@TGS#2HIKERS")})
		if err != nil {
			t.Fatal(err)
		}
		gr := created.GroupResultItem[0]
		if gr.GroupItem.GroupName != "Friends" || gr.GroupItem.GroupID == 0 || len(gr.ResultItem) != 2 || gr.ResultItem[1].ResultCode != 0 ||
			gr.ResultItem[1].ContactItem != tencentim.GroupChat("@TGS#2HIKERS") {
			t.Fatalf("%+v", created)
		}
		renamed, err := c.RenameContactGroup(ctx, "erin", "Friends", "朋友")
		if err != nil {
			t.Fatal(err)
		}
		if r := renamed.UpdateGroupResult; r.GroupName != "朋友" || r.OldGroupName != "Friends" || r.GroupID != gr.GroupItem.GroupID {
			t.Fatalf("%+v", renamed)
		}
		added, err := c.AddToContactGroup(ctx, "erin", "朋友", []tencentim.ContactItem{tencentim.C2C("bob")})
		if err != nil {
			t.Fatal(err)
		}
		if items := added.UpdateGroupResult.ContactResultItem; len(items) != 1 || items[0].ContactOptType != tencentim.ContactOptAdd || items[0].ResultCode != 0 {
			t.Fatalf("%+v", added)
		}
		if _, err := c.RemoveFromContactGroup(ctx, "erin", "朋友", []tencentim.ContactItem{tencentim.C2C("alice")}); err != nil {
			t.Fatal(err)
		}
		state, _ := fake.Groups("erin")
		if len(state) != 1 || !slices.Equal(state[0].Members, []string{"group_@TGS#2HIKERS", "c2c_bob"}) {
			t.Fatalf("fake holds %+v", state)
		}
		deleted, err := c.DeleteContactGroup(ctx, "erin", "朋友")
		if err != nil {
			t.Fatal(err)
		}
		if len(deleted.GroupItem) != 1 || deleted.GroupItem[0].GroupID != gr.GroupItem.GroupID {
			t.Fatalf("%+v", deleted)
		}
	})
	t.Run("ErrGroupLimit", func(t *testing.T) {
		_, err := c.CreateContactGroup(ctx, "carol", "One too many", []tencentim.ContactItem{tencentim.C2C("bob")})
		wantRefused(t, err, 51010)
	})
	t.Run("ErrNameTooLong", func(t *testing.T) {
		_, err := c.CreateContactGroup(ctx, "alice", strings.Repeat("组", 11), []tencentim.ContactItem{tencentim.C2C("bob")}) // 33 bytes
		wantRefused(t, err, 51011)
		_, err = c.RenameContactGroup(ctx, "alice", "Work", strings.Repeat("a", 33))
		wantRefused(t, err, 51011)
	})
	t.Run("ErrGroupNotFound", func(t *testing.T) {
		_, err := c.RenameContactGroup(ctx, "alice", "Nope", "Still nope")
		wantRefused(t, err, 51009)
		_, err = c.DeleteContactGroup(ctx, "alice", "Nope")
		wantRefused(t, err, 51009)
		_, err = c.AddToContactGroup(ctx, "alice", "Nope", []tencentim.ContactItem{tencentim.C2C("bob")})
		wantRefused(t, err, 51009)
	})
	t.Run("ErrGroupedLimitPerItem", func(t *testing.T) {
		res, err := c.AddToContactGroup(ctx, "dave", "Team 01", []tencentim.ContactItem{tencentim.C2C("user2500"), tencentim.C2C("user0001")})
		if err != nil {
			t.Fatal(err)
		}
		items := res.UpdateGroupResult.ContactResultItem
		if len(items) != 2 || items[0].ResultCode != 51008 || items[1].ResultCode != 0 {
			t.Fatalf("%+v", items)
		}
	})
	t.Run("ErrInvalidBeforeSending", func(t *testing.T) {
		fake.ResetStats()
		_, err := c.AddToContactGroup(ctx, "alice", "Work", nil)
		if e := mustErr(t, err); e.Kind != tencentim.KindInvalid || e.Outcome() != tencentim.NotApplied {
			t.Fatalf("%v", err)
		}
		if n := len(fake.Stats()); n != 0 {
			t.Fatalf("sent anyway: %v", fake.Stats())
		}
	})
}

// TestFaults: each injected fault surfaces as the right kind and outcome, and
// a write is sent exactly once whatever happens.
func TestFaults(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.Timeout = 300 * time.Millisecond })
	tencentim.SetRetryDelays(c, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond})
	ctx := context.Background()
	cases := []struct {
		kind    timfake.FaultKind
		code    int
		apply   bool
		want    tencentim.Kind
		outcome tencentim.Outcome
	}{
		{timfake.FaultFail, 50004, false, tencentim.KindRefused, tencentim.NotApplied},
		{timfake.Fault60007, 0, false, tencentim.KindRefused, tencentim.NotApplied},
		{timfake.FaultHTTP502, 0, false, tencentim.KindHTTPStatus, tencentim.OutcomeUnknown},
		{timfake.FaultHTTP502, 0, true, tencentim.KindHTTPStatus, tencentim.OutcomeUnknown},
		{timfake.FaultTimeout, 0, false, tencentim.KindTimeout, tencentim.OutcomeUnknown},
		{timfake.FaultTimeout, 0, true, tencentim.KindTimeout, tencentim.OutcomeUnknown},
		{timfake.FaultReset, 0, false, tencentim.KindConnection, tencentim.OutcomeUnknown},
		{timfake.FaultReset, 0, true, tencentim.KindConnection, tencentim.OutcomeUnknown},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/apply=%v", tc.kind, tc.apply), func(t *testing.T) {
			fake.Reset()
			// Count 2: if the client re-sent, the second send would fail too
			// and still be counted.
			if err := fake.AddFault(timfake.Fault{Command: "update_contact_group", Kind: tc.kind, Code: tc.code, Count: 2, Apply: tc.apply}); err != nil {
				t.Fatal(err)
			}
			_, err := c.AddToContactGroup(ctx, "alice", "Later", []tencentim.ContactItem{tencentim.C2C("bob")})
			e := mustErr(t, err)
			if e.Kind != tc.want || e.Outcome() != tc.outcome || tencentim.IsOutcomeUnknown(err) != (tc.outcome == tencentim.OutcomeUnknown) {
				t.Fatalf("got %v (kind %s, outcome %s), want %s/%s", err, e.Kind, e.Outcome(), tc.want, tc.outcome)
			}
			if tc.kind == timfake.Fault60007 && e.Code != 60007 {
				t.Fatalf("code %d", e.Code)
			}
			if tc.kind == timfake.FaultTimeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("timeout does not wrap context.DeadlineExceeded: %v", err)
			}
			if got := fake.Stats()[string(tencentim.CommandUpdateContactGroup)]; got != 1 {
				t.Fatalf("write sent %d times", got)
			}
			groups, _ := fake.Groups("alice")
			later := groups[len(groups)-1]
			if applied := slices.Contains(later.Members, "c2c_bob"); applied != tc.apply {
				t.Fatalf("applied = %v, want %v", applied, tc.apply)
			}
		})
	}
	t.Run("itemfail", func(t *testing.T) {
		fake.Reset()
		if err := fake.AddFault(timfake.Fault{Command: "recentcontact/update_contact_group", Kind: timfake.FaultItemFail, Code: 50004}); err != nil {
			t.Fatal(err)
		}
		res, err := c.AddToContactGroup(ctx, "alice", "Later", []tencentim.ContactItem{tencentim.C2C("bob"), tencentim.C2C("carol")})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.UpdateGroupResult.ContactResultItem {
			if it.ResultCode != 50004 {
				t.Fatalf("%+v", it)
			}
		}
		if got := fake.Stats()[string(tencentim.CommandUpdateContactGroup)]; got != 1 {
			t.Fatalf("sent %d times", got)
		}
	})
	t.Run("ReadTimeoutNotRetried", func(t *testing.T) {
		fake.Reset()
		_ = fake.AddFault(timfake.Fault{Command: "get_list", Kind: timfake.FaultTimeout, Count: 2})
		_, err := c.GetList(ctx, "alice", tencentim.ListCursor{})
		if e := mustErr(t, err); e.Kind != tencentim.KindTimeout {
			t.Fatal(err)
		}
		if got := fake.Stats()[string(tencentim.CommandGetList)]; got != 1 {
			t.Fatalf("sent %d times", got)
		}
	})
}

func TestReadRetriedOn60007(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	cmd := string(tencentim.CommandGetContactGroup)
	for _, tc := range []struct {
		name      string
		faults    int
		delays    []time.Duration
		wantCalls int
		wantErr   bool
	}{
		{"RecoversAfterTwo", 2, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}, 3, false},
		{"GivesUpAfterThreeRetries", 10, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}, 4, true},
		// 1 s + 1 s fits the 2 s window, a third second does not.
		{"GivesUpAtTwoSeconds", 10, []time.Duration{time.Second, time.Second, time.Second}, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.Reset()
			clock := tencentim.NewStepClock(time.Now())
			c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.Clock = clock })
			tencentim.SetRetryDelays(c, tc.delays)
			_ = fake.AddFault(timfake.Fault{Command: cmd, Kind: timfake.Fault60007, Count: tc.faults})
			_, err := c.GetContactGroup(context.Background(), "alice", 0)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				wantRefused(t, err, 60007)
			}
			if got := fake.Stats()[cmd]; got != tc.wantCalls {
				t.Fatalf("%d calls, want %d", got, tc.wantCalls)
			}
		})
	}
	t.Run("WriteNotRetried", func(t *testing.T) {
		fake.Reset()
		c := fakeClient(t, fake, nil)
		tencentim.SetRetryDelays(c, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond})
		_ = fake.AddFault(timfake.Fault{Command: "del_contact_group", Kind: timfake.Fault60007, Count: 5})
		_, err := c.DeleteContactGroup(context.Background(), "alice", "Later")
		wantRefused(t, err, 60007)
		if got := fake.Stats()[string(tencentim.CommandDelContactGroup)]; got != 1 {
			t.Fatalf("write sent %d times", got)
		}
	})
}

// TestRateLimitAgainstFake: a burst of 250 concurrent reads at half the
// documented limit never trips the fake's own sliding window, and the
// budget reports the use. Takes about two seconds of real time.
func TestRateLimitAgainstFake(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.RateShare = 0.5 })
	if rem, limit := c.RateBudget(tencentim.CommandGetGroupInfo); rem != 100 || limit != 100 {
		t.Fatalf("budget %d/%d, want 100/100", rem, limit)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 250)
	for range 250 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetGroupInfo(context.Background(), []string{"@TGS#1PRODUCT"}, nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := fake.Stats()[string(tencentim.CommandGetGroupInfo)]; got != 250 {
		t.Fatalf("%d calls", got)
	}
	if rem, _ := c.RateBudget(tencentim.CommandGetGroupInfo); rem >= 100 {
		t.Fatalf("budget %d after a burst", rem)
	}
}

func TestUserSigRejectedByFake(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mod  func(*tencentim.Config)
		code int
	}{
		{"ErrWrongKey", func(c *tencentim.Config) { c.SecretKey = "not-the-key" }, 70009},
		{"ErrExpired", func(c *tencentim.Config) {
			c.Clock = tencentim.NewStepClock(time.Now().Add(-48 * time.Hour))
			c.SigLifetime, c.SigRenewal = 24*time.Hour, time.Hour
		}, 70001},
		{"ErrWrongSDKAppID", func(c *tencentim.Config) { c.SDKAppID = 1400000001 }, 60006},
		{"ErrNotAdmin", func(c *tencentim.Config) { c.Admin = "alice" }, 60010},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeClient(t, fake, tc.mod)
			_, err := c.GetContactGroup(ctx, "alice", 0)
			wantRefused(t, err, tc.code)
		})
	}
}

// TestNoSecretsInLogsOrErrors: after a timeout, an HTTP 502 and a refused
// connection, neither the log nor the error carries the UserSig or the key.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	fake := startFake(t, timfake.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := "http://" + ln.Addr().String()
	ln.Close()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	check := func(t *testing.T, err error, kind tencentim.Kind) {
		t.Helper()
		if e := mustErr(t, err); e.Kind != kind {
			t.Fatalf("got %v, want kind %s", err, kind)
		}
		for what, text := range map[string]string{"error": err.Error(), "log": logs.String()} {
			if strings.Contains(text, "usersig=") || strings.Contains(text, timfake.DemoSecretKey) {
				t.Fatalf("%s leaks a secret: %s", what, text)
			}
		}
		if !strings.Contains(logs.String(), "tencentim call failed") {
			t.Fatalf("failure not logged: %s", logs.String())
		}
	}
	t.Run("Timeout", func(t *testing.T) {
		logs.Reset()
		c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.Logger, cfg.Timeout = logger, 200*time.Millisecond })
		_ = fake.AddFault(timfake.Fault{Command: "get_list", Kind: timfake.FaultTimeout})
		_, err := c.GetList(ctx, "alice", tencentim.ListCursor{})
		check(t, err, tencentim.KindTimeout)
	})
	t.Run("HTTP502", func(t *testing.T) {
		logs.Reset()
		c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.Logger = logger })
		_ = fake.AddFault(timfake.Fault{Command: "get_list", Kind: timfake.FaultHTTP502})
		_, err := c.GetList(ctx, "alice", tencentim.ListCursor{})
		check(t, err, tencentim.KindHTTPStatus)
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		logs.Reset()
		c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.Logger, cfg.Endpoint = logger, closedAddr })
		_, err := c.CreateContactGroup(ctx, "alice", "X", []tencentim.ContactItem{tencentim.C2C("bob")})
		check(t, err, tencentim.KindNotSent)
		if tencentim.IsOutcomeUnknown(err) {
			t.Fatal("a refused connection sent nothing: the outcome is known")
		}
	})
	t.Run("Reset", func(t *testing.T) {
		logs.Reset()
		c := fakeClient(t, fake, func(cfg *tencentim.Config) { cfg.Logger = logger })
		_ = fake.AddFault(timfake.Fault{Command: "get_list", Kind: timfake.FaultReset})
		_, err := c.GetList(ctx, "alice", tencentim.ListCursor{})
		check(t, err, tencentim.KindConnection)
	})
}
