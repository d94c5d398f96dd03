package tencentim

import (
	"context"
	"fmt"
)

// maxPages bounds the paging helpers so a service that never says
// "complete" cannot loop them forever. 1000 pages cover 5000 conversations
// even at 5 per page.
const maxPages = 1000

// ---- conversation groups (writes: sent exactly once) ----

// CreateContactGroup creates one group named name for user from, with its
// first conversations (the service takes one group per call). Per-conversation
// results are in GroupResultItem[0].ResultItem.
func (c *Client) CreateContactGroup(ctx context.Context, from, name string, contacts []ContactItem) (*CreateContactGroupResponse, error) {
	if from == "" || name == "" {
		return nil, invalid(CommandCreateContactGroup, "user and group name are required")
	}
	req := CreateContactGroupRequest{FromAccount: from, GroupContactItem: []GroupContactItem{{GroupName: name, ContactItem: contacts}}}
	var resp CreateContactGroupResponse
	if err := c.call(ctx, CommandCreateContactGroup, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// RenameContactGroup renames from's group oldName to newName (UpdateGroupType 1).
func (c *Client) RenameContactGroup(ctx context.Context, from, oldName, newName string) (*UpdateContactGroupResponse, error) {
	if from == "" || oldName == "" || newName == "" {
		return nil, invalid(CommandUpdateContactGroup, "user, old and new group names are required")
	}
	req := UpdateContactGroupRequest{FromAccount: from, UpdateType: 1,
		UpdateGroup: UpdateGroup{UpdateGroupType: UpdateGroupRename, OldGroupName: oldName, NewGroupName: newName}}
	var resp UpdateContactGroupResponse
	if err := c.call(ctx, CommandUpdateContactGroup, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// UpdateContactGroupMembers adds and removes conversations of from's group
// (UpdateGroupType 2). Per-conversation results are in
// UpdateGroupResult.ContactResultItem.
func (c *Client) UpdateContactGroupMembers(ctx context.Context, from, group string, items []ContactUpdateItem) (*UpdateContactGroupResponse, error) {
	if from == "" || group == "" || len(items) == 0 {
		return nil, invalid(CommandUpdateContactGroup, "user, group name and at least one conversation are required")
	}
	for _, it := range items {
		if it.ContactOptType != ContactOptAdd && it.ContactOptType != ContactOptRemove {
			return nil, invalid(CommandUpdateContactGroup, "ContactOptType %d is neither add (1) nor remove (2)", it.ContactOptType)
		}
	}
	req := UpdateContactGroupRequest{FromAccount: from, UpdateType: 1,
		UpdateGroup: UpdateGroup{UpdateGroupType: UpdateGroupMembers, OldGroupName: group, ContactUpdateItem: items}}
	var resp UpdateContactGroupResponse
	if err := c.call(ctx, CommandUpdateContactGroup, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// AddToContactGroup adds conversations to from's group.
func (c *Client) AddToContactGroup(ctx context.Context, from, group string, contacts []ContactItem) (*UpdateContactGroupResponse, error) {
	return c.UpdateContactGroupMembers(ctx, from, group, updateItems(ContactOptAdd, contacts))
}

// RemoveFromContactGroup removes conversations from from's group.
func (c *Client) RemoveFromContactGroup(ctx context.Context, from, group string, contacts []ContactItem) (*UpdateContactGroupResponse, error) {
	return c.UpdateContactGroupMembers(ctx, from, group, updateItems(ContactOptRemove, contacts))
}

func updateItems(opt int, contacts []ContactItem) []ContactUpdateItem {
	items := make([]ContactUpdateItem, len(contacts))
	for i, ct := range contacts {
		items[i] = ContactUpdateItem{ContactOptType: opt, ContactItem: ct}
	}
	return items
}

// DeleteContactGroup deletes from's group name (one name per call).
func (c *Client) DeleteContactGroup(ctx context.Context, from, name string) (*DelContactGroupResponse, error) {
	if from == "" || name == "" {
		return nil, invalid(CommandDelContactGroup, "user and group name are required")
	}
	req := DelContactGroupRequest{FromAccount: from, GroupName: []string{name}}
	var resp DelContactGroupResponse
	if err := c.call(ctx, CommandDelContactGroup, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ---- conversation groups (reads) ----

// SearchContactGroup returns the group and mark data of up to 300 of from's
// conversations.
func (c *Client) SearchContactGroup(ctx context.Context, from string, contacts []ContactItem) (*SearchContactGroupResponse, error) {
	if from == "" || len(contacts) == 0 || len(contacts) > MaxSearchContacts {
		return nil, invalid(CommandSearchContactGroup, "user and 1..%d conversations are required", MaxSearchContacts)
	}
	var resp SearchContactGroupResponse
	if err := c.call(ctx, CommandSearchContactGroup, SearchContactGroupRequest{FromAccount: from, ContactItem: contacts}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GetContactGroup reads one page of from's group and mark data, starting at
// start (0 first, then the previous page's NextStartIndex).
func (c *Client) GetContactGroup(ctx context.Context, from string, start int64) (*GetContactGroupResponse, error) {
	if from == "" {
		return nil, invalid(CommandGetContactGroup, "user is required")
	}
	var resp GetContactGroupResponse
	if err := c.call(ctx, CommandGetContactGroup, GetContactGroupRequest{FromAccount: from, StartIndex: start}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ContactGroups is all of a user's conversation-group data.
type ContactGroups struct {
	Groups   []GroupItem    // union over all pages, in first-seen order, unique by GroupId
	Contacts []ContactEntry // every page's entries, unique by conversation (last page wins)
	Pages    int            // calls made
}

// GetAllContactGroups reads every page of get_contact_group. The docs leave
// open whether GroupItem repeats every group on each page and what
// CompleteFlag means here; see the package comment for how both readings
// are handled.
func (c *Client) GetAllContactGroups(ctx context.Context, from string) (*ContactGroups, error) {
	out := &ContactGroups{}
	seenGroup := map[int64]int{}
	seenContact := map[string]int{}
	var start int64
	for {
		if out.Pages >= maxPages {
			return nil, &Error{Command: string(CommandGetContactGroup), Kind: KindBadAnswer, Info: fmt.Sprintf("still incomplete after %d pages", maxPages)}
		}
		page, err := c.GetContactGroup(ctx, from, start)
		if err != nil {
			return nil, err
		}
		out.Pages++
		for _, g := range page.GroupItem {
			if i, ok := seenGroup[g.GroupID]; ok {
				out.Groups[i] = g // a later page may carry a newer name
				continue
			}
			seenGroup[g.GroupID] = len(out.Groups)
			out.Groups = append(out.Groups, g)
		}
		for _, e := range page.ContactItem {
			key := e.Contact().ConversationID()
			if i, ok := seenContact[key]; ok {
				out.Contacts[i] = e
				continue
			}
			seenContact[key] = len(out.Contacts)
			out.Contacts = append(out.Contacts, e)
		}
		switch {
		case page.CompleteFlag == 1:
			return out, nil
		case page.NextStartIndex == 0:
			// The documented final page has NextStartIndex 0; starting again
			// from 0 would loop, so 0 ends the walk whatever CompleteFlag says.
			return out, nil
		case page.NextStartIndex <= start:
			return nil, &Error{Command: string(CommandGetContactGroup), Kind: KindBadAnswer,
				Info: fmt.Sprintf("NextStartIndex %d does not advance past %d", page.NextStartIndex, start)}
		}
		start = page.NextStartIndex
	}
}

// GetList reads one page of from's conversation list at cursor (zero value
// for the first page), with AssistFlags 63.
func (c *Client) GetList(ctx context.Context, from string, cursor ListCursor) (*GetListResponse, error) {
	if from == "" {
		return nil, invalid(CommandGetList, "user is required")
	}
	req := GetListRequest{FromAccount: from, TimeStamp: cursor.TimeStamp, StartIndex: cursor.StartIndex,
		TopTimeStamp: cursor.TopTimeStamp, TopStartIndex: cursor.TopStartIndex, AssistFlags: AssistFlagsAll}
	var resp GetListResponse
	if err := c.call(ctx, CommandGetList, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// FullList is every conversation of a user, in the service's order.
type FullList struct {
	Items []SessionItem
	Pages int // calls made
}

// GetFullList reads every page of get_list, echoing the four cursors, until
// CompleteFlag is 1.
func (c *Client) GetFullList(ctx context.Context, from string) (*FullList, error) {
	out := &FullList{}
	var cursor ListCursor
	for {
		if out.Pages >= maxPages {
			return nil, &Error{Command: string(CommandGetList), Kind: KindBadAnswer, Info: fmt.Sprintf("still incomplete after %d pages", maxPages)}
		}
		page, err := c.GetList(ctx, from, cursor)
		if err != nil {
			return nil, err
		}
		out.Pages++
		out.Items = append(out.Items, page.SessionItem...)
		if page.CompleteFlag == 1 {
			return out, nil
		}
		next := page.Cursor()
		if next == cursor {
			return nil, &Error{Command: string(CommandGetList), Kind: KindBadAnswer, Info: "incomplete page with an unchanged cursor"}
		}
		cursor = next
	}
}

// ---- accounts, profiles, group chats ----

// AccountCheck checks userIDs, 100 per call. A missing user is a result with
// AccountStatus NotImported, not an error. On error the results gathered so
// far are returned with it.
func (c *Client) AccountCheck(ctx context.Context, userIDs []string) ([]AccountResult, error) {
	var out []AccountResult
	for batch := range batches(userIDs, MaxAccountCheck) {
		req := AccountCheckRequest{CheckItem: make([]CheckItem, len(batch))}
		for i, id := range batch {
			req.CheckItem[i] = CheckItem{UserID: id}
		}
		var resp AccountCheckResponse
		if err := c.call(ctx, CommandAccountCheck, req, &resp); err != nil {
			return out, err
		}
		out = append(out, resp.ResultItem...)
	}
	return out, nil
}

// PortraitGet reads tags of userIDs, 100 per call, merging the answers.
// Per-user failures (40003 for a deleted user) are items with a non-zero
// ResultCode. On error the items gathered so far are returned with it.
func (c *Client) PortraitGet(ctx context.Context, userIDs, tags []string) (*PortraitGetResponse, error) {
	if len(tags) == 0 {
		return nil, invalid(CommandPortraitGet, "at least one tag is required")
	}
	out := &PortraitGetResponse{Status: Status{ActionStatus: "OK"}}
	for batch := range batches(userIDs, MaxPortraitGet) {
		var resp PortraitGetResponse
		if err := c.call(ctx, CommandPortraitGet, PortraitGetRequest{ToAccount: batch, TagList: tags}, &resp); err != nil {
			return out, err
		}
		out.UserProfileItem = append(out.UserProfileItem, resp.UserProfileItem...)
		out.FailAccount = append(out.FailAccount, resp.FailAccount...)
	}
	return out, nil
}

// GetGroupInfo reads group chats, 50 per call, always with a response filter
// (DefaultGroupInfoFilter when filter is empty). Per-group failures (10010
// for a disbanded group) are items with a non-zero ErrorCode. On error the
// items gathered so far are returned with it.
func (c *Client) GetGroupInfo(ctx context.Context, groupIDs, filter []string) ([]GroupInfo, error) {
	if len(filter) == 0 {
		filter = DefaultGroupInfoFilter
	}
	var out []GroupInfo
	for batch := range batches(groupIDs, MaxGetGroupInfo) {
		req := GetGroupInfoRequest{GroupIDList: batch, ResponseFilter: ResponseFilter{GroupBaseInfoFilter: filter}}
		var resp GetGroupInfoResponse
		if err := c.call(ctx, CommandGetGroupInfo, req, &resp); err != nil {
			return out, err
		}
		out = append(out, resp.GroupInfo...)
	}
	return out, nil
}

// ---- unread counts and messages (on demand only) ----

// C2CUnread reads user's unread counts with peers, 10 per call, merging the
// answers; with no peers it makes one call for the total
// (AllC2CUnreadMsgNum). On error what was gathered so far is returned with it.
func (c *Client) C2CUnread(ctx context.Context, user string, peers []string) (*C2CUnreadResponse, error) {
	if user == "" {
		return nil, invalid(CommandC2CUnreadMsgNum, "user is required")
	}
	out := &C2CUnreadResponse{Status: Status{ActionStatus: "OK"}}
	if len(peers) == 0 {
		if err := c.call(ctx, CommandC2CUnreadMsgNum, C2CUnreadRequest{ToAccount: user}, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	for batch := range batches(peers, MaxUnreadPeers) {
		var resp C2CUnreadResponse
		if err := c.call(ctx, CommandC2CUnreadMsgNum, C2CUnreadRequest{ToAccount: user, PeerAccount: batch}, &resp); err != nil {
			return out, err
		}
		out.C2CUnreadMsgNumList = append(out.C2CUnreadMsgNumList, resp.C2CUnreadMsgNumList...)
		out.ErrorList = append(out.ErrorList, resp.ErrorList...)
	}
	return out, nil
}

// AdminGetRoamMsg reads C2C history as req.OperatorAccount sees it. For the
// newest message use MaxCnt 1, MinTime 0 and MaxTime now.
func (c *Client) AdminGetRoamMsg(ctx context.Context, req RoamMsgRequest) (*RoamMsgResponse, error) {
	if req.OperatorAccount == "" || req.PeerAccount == "" || req.MaxCnt < 1 {
		return nil, invalid(CommandAdminGetRoamMsg, "operator, peer and MaxCnt ≥ 1 are required")
	}
	var resp RoamMsgResponse
	if err := c.call(ctx, CommandAdminGetRoamMsg, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GroupMsgGetSimple reads up to 20 messages of a group chat (the newest when
// req.ReqMsgSeq is 0).
func (c *Client) GroupMsgGetSimple(ctx context.Context, req GroupMsgRequest) (*GroupMsgResponse, error) {
	if req.GroupID == "" || req.ReqMsgNumber < 1 || req.ReqMsgNumber > MaxGroupMsgs {
		return nil, invalid(CommandGroupMsgGetSimple, "group ID and ReqMsgNumber 1..%d are required", MaxGroupMsgs)
	}
	var resp GroupMsgResponse
	if err := c.call(ctx, CommandGroupMsgGetSimple, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// batches yields ids in chunks of at most n, in order.
func batches(ids []string, n int) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for start := 0; start < len(ids); start += n {
			end := min(start+n, len(ids))
			if !yield(ids[start:end]) {
				return
			}
		}
	}
}
