package timfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// request is one API call as an endpoint sees it.
type request struct {
	body      []byte
	itemFail  int   // non-zero: every item gets this ResultCode and is not applied
	now       int64 // Unix seconds
	paramCode int
}

// decode fills v, refusing unknown keys and wrong JSON types as a strict
// server does. Request structs use pointers so a missing key is nil.
func (r *request) decode(v any) *apiError {
	// encoding/json matches keys case-insensitively; Tencent's are
	// case-sensitive (ToGroupId ≠ ToGroupid), so check spelling first.
	var generic any
	if err := json.Unmarshal(r.body, &generic); err != nil {
		return fail(r.paramCode, "invalid request: %v", err)
	}
	if err := exactKeys(generic, reflect.TypeOf(v), ""); err != nil {
		return fail(r.paramCode, "invalid request: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fail(r.paramCode, "invalid request: %v", err)
	}
	if dec.More() {
		return fail(r.paramCode, "invalid request: data after the JSON object")
	}
	return nil
}

// exactKeys refuses any object key that is not spelled exactly as a json
// tag of the matching struct field. Type mismatches are left to the decoder.
func exactKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch val := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
		for k, sub := range val {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown key %q", path+k)
			}
			if err := exactKeys(sub, ft, path+k+"."); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return nil
		}
		for _, e := range val {
			if err := exactKeys(e, t.Elem(), path); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *request) missing(key string) *apiError {
	return fail(r.paramCode, "%s is required", key)
}

type endpoint struct {
	paramCode int
	run       func(s *Server, r *request) (map[string]any, *apiError)
}

// endpoints are the commands the fake serves, keyed "service/command".
var endpoints = map[string]endpoint{
	"im_open_login_svc/account_check":          {codeAccountParam, (*Server).accountCheck},
	"profile/portrait_get":                     {codeProfileParam, (*Server).portraitGet},
	"group_open_http_svc/get_group_info":       {codeGroupParam, (*Server).getGroupInfo},
	"group_open_http_svc/group_msg_get_simple": {codeGroupParam, (*Server).groupMsgGetSimple},
	"recentcontact/get_list":                   {codeBadParam, (*Server).getList},
	"recentcontact/get_contact_group":          {codeBadParam, (*Server).getContactGroup},
	"recentcontact/search_contact_group":       {codeBadParam, (*Server).searchContactGroup},
	"recentcontact/create_contact_group":       {codeBadParam, (*Server).createContactGroup},
	"recentcontact/update_contact_group":       {codeBadParam, (*Server).updateContactGroup},
	"recentcontact/del_contact_group":          {codeBadParam, (*Server).delContactGroup},
	"openim/get_c2c_unread_msg_num":            {codeOpenIMParam, (*Server).c2cUnread},
	"openim/admin_getroammsg":                  {codeOpenIMParam, (*Server).adminGetRoamMsg},
}

// inContact is a ContactItem in a request.
type inContact struct {
	Type      *int    `json:"Type"`
	ToAccount *string `json:"To_Account"`
	ToGroupID *string `json:"ToGroupId"`
}

// id checks the item (Type 1 with To_Account only, Type 2 with ToGroupId
// only) and returns its conversation ID.
func (c *inContact) id(r *request) (string, *apiError) {
	switch {
	case c == nil || c.Type == nil:
		return "", r.missing("ContactItem.Type")
	case *c.Type == 1 && c.ToAccount != nil && *c.ToAccount != "" && c.ToGroupID == nil:
		return "c2c_" + *c.ToAccount, nil
	case *c.Type == 2 && c.ToGroupID != nil && *c.ToGroupID != "" && c.ToAccount == nil:
		return "group_" + *c.ToGroupID, nil
	}
	return "", fail(r.paramCode, "ContactItem needs Type 1 with To_Account or Type 2 with ToGroupId")
}

func outContact(id string) map[string]any {
	if g, ok := strings.CutPrefix(id, "group_"); ok {
		return map[string]any{"Type": 2, "ToGroupId": g}
	}
	return map[string]any{"Type": 1, "To_Account": strings.TrimPrefix(id, "c2c_")}
}

func (s *Server) imUser(r *request, from *string) (*account, *apiError) {
	if from == nil || *from == "" {
		return nil, r.missing("From_Account")
	}
	a := s.accounts[*from]
	if a == nil {
		return nil, fail(codeUserNotImported, "UserID %s is not imported", *from)
	}
	return a, nil
}

func groupItems(a *account) []any {
	out := []any{}
	for _, g := range a.groups {
		out = append(out, map[string]any{"GroupName": g.name, "GroupId": g.id})
	}
	return out
}

func (s *Server) contactEntry(a *account, id string) map[string]any {
	e := outContact(id)
	ids := a.groupIDsOf(id)
	if ids == nil {
		ids = []int64{}
	}
	e["StandardMark"] = a.marks[id]
	e["CustomMark"] = ""
	e["ContactGroupId"] = ids
	e["Timestamp"] = a.touched[id]
	return e
}

// ---- account_check ----

func (s *Server) accountCheck(r *request) (map[string]any, *apiError) {
	var req struct {
		CheckItem *[]struct {
			UserID *string `json:"UserID"`
		} `json:"CheckItem"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.CheckItem == nil {
		return nil, r.missing("CheckItem")
	}
	if len(*req.CheckItem) > maxAccountCheck {
		return nil, fail(r.paramCode, "at most %d accounts per call", maxAccountCheck)
	}
	items := []any{}
	for _, it := range *req.CheckItem {
		if it.UserID == nil || *it.UserID == "" {
			return nil, r.missing("CheckItem.UserID")
		}
		item := map[string]any{"UserID": *it.UserID, "ResultCode": 0, "ResultInfo": "", "AccountStatus": "NotImported"}
		if s.accounts[*it.UserID] != nil {
			item["AccountStatus"] = "Imported"
		}
		if r.itemFail != 0 {
			item["ResultCode"], item["ResultInfo"], item["AccountStatus"] = r.itemFail, "injected failure", ""
		}
		items = append(items, item)
	}
	return map[string]any{"ResultItem": items}, nil
}

// ---- portrait_get ----

func (s *Server) portraitGet(r *request) (map[string]any, *apiError) {
	var req struct {
		ToAccount *[]string `json:"To_Account"`
		TagList   *[]string `json:"TagList"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.ToAccount == nil {
		return nil, r.missing("To_Account")
	}
	if req.TagList == nil {
		return nil, r.missing("TagList")
	}
	if len(*req.ToAccount) > maxPortraitGet {
		return nil, fail(r.paramCode, "at most %d accounts per call", maxPortraitGet)
	}
	for _, tag := range *req.TagList {
		if !strings.HasPrefix(tag, "Tag_Profile_IM_") && !strings.HasPrefix(tag, "Tag_Profile_Custom_") {
			return nil, fail(codeProfileTag, "unknown tag %s", tag)
		}
	}
	items, failed := []any{}, []string{}
	for _, id := range *req.ToAccount {
		a := s.accounts[id]
		if a == nil || r.itemFail != 0 {
			code, info := codeProfileNoUser, "account does not exist"
			if r.itemFail != 0 {
				code, info = r.itemFail, "injected failure"
			}
			items = append(items, map[string]any{"To_Account": id, "ResultCode": code, "ResultInfo": info})
			failed = append(failed, id)
			continue
		}
		profile := []any{}
		for _, tag := range *req.TagList {
			switch {
			case tag == "Tag_Profile_IM_Nick" && a.nick != "":
				profile = append(profile, map[string]any{"Tag": tag, "Value": a.nick})
			case tag == "Tag_Profile_IM_Image" && a.image != "":
				profile = append(profile, map[string]any{"Tag": tag, "Value": a.image})
			case tag == "Tag_Profile_IM_Level":
				profile = append(profile, map[string]any{"Tag": tag, "Value": int(hash32(id) % 10)})
			}
		}
		items = append(items, map[string]any{"To_Account": id, "ProfileItem": profile, "ResultCode": 0, "ResultInfo": ""})
	}
	ans := map[string]any{"UserProfileItem": items}
	if len(failed) > 0 {
		ans["Fail_Account"] = failed
	}
	return ans, nil
}

// ---- get_group_info ----

func (s *Server) getGroupInfo(r *request) (map[string]any, *apiError) {
	var req struct {
		GroupIDList    *[]string `json:"GroupIdList"`
		ResponseFilter *struct {
			GroupBaseInfoFilter             *[]string `json:"GroupBaseInfoFilter"`
			MemberInfoFilter                *[]string `json:"MemberInfoFilter"`
			AppDefinedDataFilterGroup       *[]string `json:"AppDefinedDataFilter_Group"`
			AppDefinedDataFilterGroupMember *[]string `json:"AppDefinedDataFilter_GroupMember"`
		} `json:"ResponseFilter"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.GroupIDList == nil {
		return nil, r.missing("GroupIdList")
	}
	if len(*req.GroupIDList) > maxGroupInfo {
		return nil, fail(r.paramCode, "at most %d groups per call", maxGroupInfo)
	}
	// The real service answers everything, member lists included, without a
	// filter; the fake insists, so a client that forgets it is caught.
	if req.ResponseFilter == nil || req.ResponseFilter.GroupBaseInfoFilter == nil {
		return nil, r.missing("ResponseFilter.GroupBaseInfoFilter")
	}
	infos := []any{}
	for _, id := range *req.GroupIDList {
		g := s.groupChats[id]
		if g == nil || r.itemFail != 0 {
			code, info := codeGroupGone, "group does not exist or was disbanded"
			if r.itemFail != 0 {
				code, info = r.itemFail, "injected failure"
			}
			infos = append(infos, map[string]any{"GroupId": id, "ErrorCode": code, "ErrorInfo": info})
			continue
		}
		info := map[string]any{"GroupId": id, "ErrorCode": 0, "ErrorInfo": ""}
		for _, f := range *req.ResponseFilter.GroupBaseInfoFilter {
			switch f {
			case "Type":
				info[f] = g.typ
			case "Name":
				info[f] = g.name
			case "FaceUrl":
				info[f] = g.faceURL
			case "Owner_Account":
				info[f] = g.owner
			case "CreateTime":
				info[f] = g.createTime
			case "LastMsgTime":
				info[f] = demoEpoch - int64(hash32(id)%3600)
			case "NextMsgSeq":
				info[f] = g.nextMsgSeq
			case "MemberNum":
				info[f] = len(g.members)
			case "MaxMemberNum":
				info[f] = 2000
			case "Introduction", "Notification":
				info[f] = ""
			}
		}
		infos = append(infos, info)
	}
	return map[string]any{"GroupInfo": infos}, nil
}

// ---- group_msg_get_simple ----

func (s *Server) groupMsgGetSimple(r *request) (map[string]any, *apiError) {
	var req struct {
		GroupID         *string `json:"GroupId"`
		ReqMsgNumber    *int    `json:"ReqMsgNumber"`
		ReqMsgSeq       *int64  `json:"ReqMsgSeq"`
		WithRecalledMsg *int    `json:"WithRecalledMsg"`
		TopicID         *string `json:"TopicId"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.GroupID == nil {
		return nil, r.missing("GroupId")
	}
	if req.ReqMsgNumber == nil || *req.ReqMsgNumber < 1 || *req.ReqMsgNumber > maxGroupMsgs {
		return nil, fail(r.paramCode, "ReqMsgNumber must be 1..%d", maxGroupMsgs)
	}
	g := s.groupChats[*req.GroupID]
	if g == nil {
		return nil, fail(codeGroupGone, "group does not exist or was disbanded")
	}
	seq := g.nextMsgSeq - 1
	if req.ReqMsgSeq != nil && *req.ReqMsgSeq < seq {
		seq = *req.ReqMsgSeq
	}
	msgs := []any{}
	for ; seq >= 1 && len(msgs) < *req.ReqMsgNumber; seq-- {
		m := map[string]any{
			"From_Account": g.members[int(seq)%len(g.members)], "IsPlaceMsg": 0, "IsSystemMsg": 0,
			"MsgPriority": "Normal", "MsgRandom": hash32(g.id, fmt.Sprint(seq)), "MsgSeq": seq,
			"MsgTimeStamp": demoEpoch - (g.nextMsgSeq-seq)*900, "MsgKey": fmt.Sprintf("%d_%s", seq, g.id),
			"MsgBody": []any{textElem(fmt.Sprintf("Message %d in %s", seq, g.name))},
		}
		if seq%13 == 0 {
			m["IsPlaceMsg"], m["MsgBody"] = 2, []any{} // recalled
		}
		msgs = append(msgs, m)
	}
	finished := 0
	if seq < 1 {
		finished = 1
	}
	return map[string]any{"GroupId": g.id, "IsFinished": finished, "RspMsgList": msgs}, nil
}

func textElem(text string) map[string]any {
	return map[string]any{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": text}}
}

// ---- get_list ----

func (s *Server) getList(r *request) (map[string]any, *apiError) {
	var req struct {
		From          *string `json:"From_Account"`
		TimeStamp     *int64  `json:"TimeStamp"`
		StartIndex    *int64  `json:"StartIndex"`
		TopTimeStamp  *int64  `json:"TopTimeStamp"`
		TopStartIndex *int64  `json:"TopStartIndex"`
		AssistFlags   *int    `json:"AssistFlags"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	for key, v := range map[string]*int64{"TimeStamp": req.TimeStamp, "StartIndex": req.StartIndex,
		"TopTimeStamp": req.TopTimeStamp, "TopStartIndex": req.TopStartIndex} {
		if v == nil {
			return nil, r.missing(key)
		}
	}
	if req.AssistFlags == nil {
		return nil, r.missing("AssistFlags")
	}
	a, err := s.imUser(r, req.From)
	if err != nil {
		return nil, err
	}
	var pinned, normal []*conversation
	for _, c := range a.convs {
		if c.pinned {
			pinned = append(pinned, c)
		} else {
			normal = append(normal, c)
		}
	}
	top, start := *req.TopStartIndex, *req.StartIndex
	if top < 0 || top > int64(len(pinned)) || start < 0 || start > int64(len(normal)) {
		return nil, fail(r.paramCode, "cursor out of range")
	}
	// Continuation cursors must be echoed exactly as they were given out.
	if want := cursorTime(pinned, top); *req.TopTimeStamp != want {
		return nil, fail(r.paramCode, "TopTimeStamp %d does not match TopStartIndex %d", *req.TopTimeStamp, top)
	}
	if want := cursorTime(normal, start); *req.TimeStamp != want {
		return nil, fail(r.paramCode, "TimeStamp %d does not match StartIndex %d", *req.TimeStamp, start)
	}
	items := []any{}
	withMarks := *req.AssistFlags&8 != 0 // the fake's reading: bit 3 and up ask for marks and groups
	emit := func(c *conversation) {
		it := map[string]any{"Type": c.typ, "MsgTime": c.msgTime, "TopFlag": 0}
		if c.typ == 2 {
			it["GroupId"] = c.peer
		} else {
			it["To_Account"] = c.peer
		}
		if c.pinned {
			it["TopFlag"] = 1
		}
		if withMarks {
			it["StandardMark"] = a.marks[c.id]
			it["CustomMark"] = ""
			if ids := a.groupIDsOf(c.id); ids != nil {
				it["ContactGroupId"] = ids
			}
		}
		items = append(items, it)
	}
	for top < int64(len(pinned)) && len(items) < s.cfg.PageSize {
		emit(pinned[top])
		top++
	}
	for start < int64(len(normal)) && len(items) < s.cfg.PageSize {
		emit(normal[start])
		start++
	}
	complete := 0
	if top == int64(len(pinned)) && start == int64(len(normal)) {
		complete = 1
	}
	return map[string]any{"SessionItem": items, "CompleteFlag": complete,
		"TimeStamp": cursorTime(normal, start), "StartIndex": start,
		"TopTimeStamp": cursorTime(pinned, top), "TopStartIndex": top}, nil
}

// cursorTime is the message time of the last conversation before index i.
func cursorTime(list []*conversation, i int64) int64 {
	if i <= 0 || i > int64(len(list)) {
		return 0
	}
	return list[i-1].msgTime
}

// ---- get_contact_group ----

func (s *Server) getContactGroup(r *request) (map[string]any, *apiError) {
	var req struct {
		From       *string `json:"From_Account"`
		StartIndex *int64  `json:"StartIndex"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.StartIndex == nil {
		return nil, r.missing("StartIndex")
	}
	a, err := s.imUser(r, req.From)
	if err != nil {
		return nil, err
	}
	entries := a.entries()
	start := *req.StartIndex
	if start < 0 || start > int64(len(entries)) {
		return nil, fail(r.paramCode, "StartIndex out of range")
	}
	end := min(start+int64(s.cfg.PageSize), int64(len(entries)))
	items := []any{}
	for _, id := range entries[start:end] {
		items = append(items, s.contactEntry(a, id))
	}
	groups := groupItems(a)
	if s.cfg.GroupItemsFirstPageOnly && start > 0 {
		groups = []any{}
	}
	complete, next := 0, end
	if end == int64(len(entries)) {
		complete, next = 1, 0
	}
	return map[string]any{"ContactItem": items, "GroupItem": groups, "CompleteFlag": complete, "NextStartIndex": next}, nil
}

// ---- search_contact_group ----

func (s *Server) searchContactGroup(r *request) (map[string]any, *apiError) {
	var req struct {
		From        *string      `json:"From_Account"`
		ContactItem *[]inContact `json:"ContactItem"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.ContactItem == nil {
		return nil, r.missing("ContactItem")
	}
	if len(*req.ContactItem) > maxSearchItems {
		return nil, fail(r.paramCode, "at most %d conversations per call", maxSearchItems)
	}
	a, err := s.imUser(r, req.From)
	if err != nil {
		return nil, err
	}
	items := []any{}
	for i := range *req.ContactItem {
		id, err := (*req.ContactItem)[i].id(r)
		if err != nil {
			return nil, err
		}
		items = append(items, s.contactEntry(a, id))
	}
	return map[string]any{"ContactResultItem": items, "GroupItem": groupItems(a)}, nil
}

// ---- create_contact_group ----

func (s *Server) createContactGroup(r *request) (map[string]any, *apiError) {
	var req struct {
		From             *string `json:"From_Account"`
		GroupContactItem *[]struct {
			GroupName   *string      `json:"GroupName"`
			ContactItem *[]inContact `json:"ContactItem"`
		} `json:"GroupContactItem"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.GroupContactItem == nil {
		return nil, r.missing("GroupContactItem")
	}
	if len(*req.GroupContactItem) != 1 {
		return nil, fail(r.paramCode, "one group per call")
	}
	item := (*req.GroupContactItem)[0]
	if item.GroupName == nil {
		return nil, r.missing("GroupName")
	}
	a, err := s.imUser(r, req.From)
	if err != nil {
		return nil, err
	}
	var ids []string
	if item.ContactItem != nil {
		if len(*item.ContactItem) > maxCreateItems {
			return nil, fail(r.paramCode, "at most %d conversations per group creation", maxCreateItems)
		}
		for i := range *item.ContactItem {
			id, err := (*item.ContactItem)[i].id(r)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
	}
	g, err := a.createGroup(*item.GroupName)
	if err != nil {
		return nil, err
	}
	result := map[string]any{"GroupItem": map[string]any{"GroupName": g.name, "GroupId": g.id}}
	if ids != nil {
		results := []any{}
		for _, id := range ids {
			code := r.itemFail
			if code == 0 {
				code = a.addMember(g, id, r.now)
			}
			results = append(results, itemResult(id, code))
		}
		result["ResultItem"] = results
	}
	return map[string]any{"GroupResultItem": []any{result}}, nil
}

func itemResult(id string, code int) map[string]any {
	info := ""
	switch code {
	case 0:
	case codeGroupedLimit:
		info = fmt.Sprintf("more than %d conversations in groups", maxGrouped)
	default:
		info = "injected failure"
	}
	return map[string]any{"ContactItem": outContact(id), "ResultCode": code, "ResultInfo": info}
}

// ---- update_contact_group ----

func (s *Server) updateContactGroup(r *request) (map[string]any, *apiError) {
	var req struct {
		From        *string `json:"From_Account"`
		UpdateType  *int    `json:"UpdateType"`
		UpdateGroup *struct {
			UpdateGroupType   *int    `json:"UpdateGroupType"`
			OldGroupName      *string `json:"OldGroupName"`
			NewGroupName      *string `json:"NewGroupName"`
			ContactUpdateItem *[]struct {
				ContactOptType *int       `json:"ContactOptType"`
				ContactItem    *inContact `json:"ContactItem"`
			} `json:"ContactUpdateItem"`
		} `json:"UpdateGroup"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.UpdateType == nil || *req.UpdateType != 1 {
		return nil, fail(r.paramCode, "UpdateType must be 1")
	}
	u := req.UpdateGroup
	if u == nil || u.UpdateGroupType == nil || u.OldGroupName == nil {
		return nil, r.missing("UpdateGroup.UpdateGroupType and UpdateGroup.OldGroupName")
	}
	a, err := s.imUser(r, req.From)
	if err != nil {
		return nil, err
	}
	switch *u.UpdateGroupType {
	case 1:
		// Strict: a rename carries no conversation list.
		if u.NewGroupName == nil || u.ContactUpdateItem != nil {
			return nil, fail(r.paramCode, "a rename needs NewGroupName and no ContactUpdateItem")
		}
		old := *u.OldGroupName
		g, err := a.renameGroup(old, *u.NewGroupName)
		if err != nil {
			return nil, err
		}
		return map[string]any{"UpdateType": 1, "UpdateGroupResult": map[string]any{
			"UpdateGroupType": 1, "GroupName": g.name, "GroupId": g.id, "OldGroupName": old}}, nil
	case 2:
		// Strict: add/remove carries no new name.
		if u.NewGroupName != nil || u.ContactUpdateItem == nil {
			return nil, fail(r.paramCode, "add/remove needs ContactUpdateItem and no NewGroupName")
		}
		if len(*u.ContactUpdateItem) > maxUpdateItems {
			return nil, fail(r.paramCode, "at most %d conversations per call", maxUpdateItems)
		}
		type op struct {
			opt int
			id  string
		}
		var ops []op
		for _, it := range *u.ContactUpdateItem {
			if it.ContactOptType == nil || (*it.ContactOptType != 1 && *it.ContactOptType != 2) {
				return nil, fail(r.paramCode, "ContactOptType must be 1 or 2")
			}
			id, err := it.ContactItem.id(r)
			if err != nil {
				return nil, err
			}
			ops = append(ops, op{*it.ContactOptType, id})
		}
		g := a.group(*u.OldGroupName)
		if g == nil {
			return nil, fail(codeGroupNotFound, "group %q does not exist", *u.OldGroupName)
		}
		results := []any{}
		for _, o := range ops {
			code := r.itemFail
			if code == 0 && o.opt == 1 {
				code = a.addMember(g, o.id, r.now)
			} else if code == 0 {
				code = a.removeMember(g, o.id, r.now)
			}
			res := itemResult(o.id, code)
			res["ContactOptType"] = o.opt
			results = append(results, res)
		}
		return map[string]any{"UpdateType": 1, "UpdateGroupResult": map[string]any{
			"UpdateGroupType": 2, "GroupName": g.name, "GroupId": g.id, "OldGroupName": g.name,
			"ContactResultItem": results}}, nil
	}
	return nil, fail(r.paramCode, "UpdateGroupType must be 1 or 2")
}

// ---- del_contact_group ----

func (s *Server) delContactGroup(r *request) (map[string]any, *apiError) {
	var req struct {
		From      *string   `json:"From_Account"`
		GroupName *[]string `json:"GroupName"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.GroupName == nil {
		return nil, r.missing("GroupName")
	}
	if len(*req.GroupName) != 1 {
		return nil, fail(r.paramCode, "one group name per call")
	}
	a, err := s.imUser(r, req.From)
	if err != nil {
		return nil, err
	}
	g, err := a.deleteGroup((*req.GroupName)[0], r.now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"GroupItem": []any{map[string]any{"GroupName": g.name, "GroupId": g.id}}}, nil
}

// ---- get_c2c_unread_msg_num ----

// unread is a deterministic unread count of user's conversation with peer.
func unread(user, peer string) int { return int(hash32(user, peer) % 6) }

func (s *Server) c2cUnread(r *request) (map[string]any, *apiError) {
	var req struct {
		ToAccount   *string   `json:"To_Account"`
		PeerAccount *[]string `json:"Peer_Account"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.ToAccount == nil {
		return nil, r.missing("To_Account")
	}
	a := s.accounts[*req.ToAccount]
	if a == nil {
		return nil, fail(codePeerNotFound, "To_Account is not imported")
	}
	if req.PeerAccount == nil {
		total := 0
		for _, c := range a.convs {
			if c.typ == 1 {
				total += unread(a.id, c.peer)
			}
		}
		return map[string]any{"To_Account": a.id, "AllC2CUnreadMsgNum": total}, nil
	}
	if len(*req.PeerAccount) > maxUnreadPeers {
		return nil, fail(r.paramCode, "at most %d peers per call", maxUnreadPeers)
	}
	list, errs := []any{}, []any{}
	for _, p := range *req.PeerAccount {
		switch {
		case r.itemFail != 0:
			errs = append(errs, map[string]any{"Peer_Account": p, "ErrorCode": r.itemFail})
		case s.accounts[p] == nil:
			errs = append(errs, map[string]any{"Peer_Account": p, "ErrorCode": codePeerNotFound})
		default:
			list = append(list, map[string]any{"Peer_Account": p, "C2CUnreadMsgNum": unread(a.id, p)})
		}
	}
	ans := map[string]any{"To_Account": a.id, "C2CUnreadMsgNumList": list}
	if len(errs) > 0 {
		ans["ErrorList"] = errs
	}
	return ans, nil
}

// ---- admin_getroammsg ----

func (s *Server) adminGetRoamMsg(r *request) (map[string]any, *apiError) {
	var req struct {
		Operator   *string `json:"Operator_Account"`
		Peer       *string `json:"Peer_Account"`
		MaxCnt     *int    `json:"MaxCnt"`
		MinTime    *int64  `json:"MinTime"`
		MaxTime    *int64  `json:"MaxTime"`
		LastMsgKey *string `json:"LastMsgKey"`
	}
	if err := r.decode(&req); err != nil {
		return nil, err
	}
	if req.Operator == nil || req.Peer == nil || req.MaxCnt == nil || req.MinTime == nil || req.MaxTime == nil {
		return nil, r.missing("Operator_Account, Peer_Account, MaxCnt, MinTime and MaxTime")
	}
	a := s.accounts[*req.Operator]
	if a == nil || s.accounts[*req.Peer] == nil {
		return nil, fail(codePeerNotFound, "account is not imported")
	}
	// The pair's history: 3–7 messages, newest at the conversation's time.
	newest := demoEpoch - 3*86400
	if c := a.convIndex["c2c_"+*req.Peer]; c != nil {
		newest = c.msgTime
	}
	n := 3 + int(hash32(pairKey(a.id, *req.Peer))%5)
	type msg struct {
		from, to, key string
		t, seq        int64
	}
	var all []msg // newest first
	for k := 0; k < n; k++ {
		from, to := *req.Peer, a.id
		if k%2 == 1 {
			from, to = a.id, *req.Peer
		}
		seq := int64(n - k)
		all = append(all, msg{from, to, fmt.Sprintf("%d_%d_%s", seq, hash32(pairKey(a.id, *req.Peer), fmt.Sprint(seq)), from), newest - int64(k)*300, seq})
	}
	var picked []msg
	more := false
	after := req.LastMsgKey == nil
	for _, m := range all {
		if !after {
			after = m.key == *req.LastMsgKey
			continue
		}
		if m.t < *req.MinTime || m.t > *req.MaxTime {
			continue
		}
		if len(picked) == *req.MaxCnt {
			more = true
			break
		}
		picked = append(picked, m)
	}
	list := []any{}
	for i := len(picked) - 1; i >= 0; i-- { // oldest first
		m := picked[i]
		list = append(list, map[string]any{"From_Account": m.from, "To_Account": m.to, "MsgSeq": m.seq,
			"MsgRandom": hash32(m.key), "MsgTimeStamp": m.t, "MsgFlagBits": 0, "IsPeerRead": 1, "MsgKey": m.key,
			"MsgBody": []any{textElem(fmt.Sprintf("Message %d between %s and %s", m.seq, m.from, m.to))}, "CloudCustomData": ""})
	}
	ans := map[string]any{"Complete": 1, "MsgCnt": len(list), "MsgList": list, "LastMsgTime": 0, "LastMsgKey": ""}
	if more {
		ans["Complete"] = 0
	}
	if len(picked) > 0 {
		oldest := picked[len(picked)-1]
		ans["LastMsgTime"], ans["LastMsgKey"] = oldest.t, oldest.key
	}
	return ans, nil
}

func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "|" + b
}
