package tencentim

import (
	"context"
	"fmt"
	"testing"
)

func sprintAll(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }

// TestAnswerMapping decodes canned answers shaped like Tencent's samples.
func TestAnswerMapping(t *testing.T) {
	rs := newRecordingServer(t)
	c := newTestClient(t, rs.URL)
	ctx := context.Background()
	answer := func(path, body string) {
		rs.mu.Lock()
		rs.answers[path] = body
		rs.mu.Unlock()
	}

	t.Run("FAILIsRefused", func(t *testing.T) {
		answer("/v4/recentcontact/del_contact_group", `{"ActionStatus":"FAIL","ErrorCode":51009,"ErrorInfo":"group not exist","ErrorDisplay":""}`)
		_, err := c.DeleteContactGroup(ctx, "alice", "x")
		if e, _ := AsError(err); e == nil || e.Kind != KindRefused || e.Code != 51009 || e.Info != "group not exist" || e.Outcome() != NotApplied {
			t.Fatalf("%v", err)
		}
	})
	t.Run("OKWithErrorCodeIsRefused", func(t *testing.T) {
		answer("/v4/recentcontact/del_contact_group", `{"ActionStatus":"OK","ErrorCode":50004,"ErrorInfo":"internal"}`)
		_, err := c.DeleteContactGroup(ctx, "alice", "x")
		if CodeOf(err) != 50004 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("BareFAILIsRefused", func(t *testing.T) {
		answer("/v4/recentcontact/del_contact_group", `{"ActionStatus":"FAIL"}`)
		_, err := c.DeleteContactGroup(ctx, "alice", "x")
		if e, _ := AsError(err); e == nil || e.Kind != KindRefused || e.Outcome() != NotApplied {
			t.Fatalf("%v", err)
		}
	})
	t.Run("NotJSONIsUnknown", func(t *testing.T) {
		answer("/v4/recentcontact/del_contact_group", `<html>oops</html>`)
		_, err := c.DeleteContactGroup(ctx, "alice", "x")
		if e, _ := AsError(err); e == nil || e.Kind != KindBadAnswer || !IsOutcomeUnknown(err) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("WrongShapeIsUnknown", func(t *testing.T) {
		answer("/v4/recentcontact/del_contact_group", `{"ActionStatus":"OK","ErrorCode":0,"GroupItem":"nope"}`)
		_, err := c.DeleteContactGroup(ctx, "alice", "x")
		if e, _ := AsError(err); e == nil || e.Kind != KindBadAnswer {
			t.Fatalf("%v", err)
		}
	})
	t.Run("CreatePerItem", func(t *testing.T) {
		answer("/v4/recentcontact/create_contact_group", `{"GroupResultItem":[{"GroupItem":{"GroupName":"g","GroupId":3},
			"ResultItem":[{"ContactItem":{"Type":1,"To_Account":"bob"},"ResultCode":0,"ResultInfo":""},
			{"ContactItem":{"Type":2,"ToGroupId":"@TGS#1"},"ResultCode":51008,"ResultInfo":"limit"}]}],
			"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ErrorDisplay":""}`)
		res, err := c.CreateContactGroup(ctx, "alice", "g", []ContactItem{C2C("bob"), GroupChat("@TGS#1")})
		if err != nil {
			t.Fatal(err)
		}
		items := res.GroupResultItem[0].ResultItem
		if res.GroupResultItem[0].GroupItem != (GroupItem{"g", 3}) || items[1].ResultCode != 51008 || items[1].ContactItem.ConversationID() != "group_@TGS#1" {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("UpdatePerItem", func(t *testing.T) {
		answer("/v4/recentcontact/update_contact_group", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UpdateType":1,
			"UpdateGroupResult":{"UpdateGroupType":2,"GroupName":"g","GroupId":3,"OldGroupName":"g",
			"ContactResultItem":[{"ContactOptType":2,"ContactItem":{"Type":1,"To_Account":"bob"},"ResultCode":50002,"ResultInfo":"not in group"}]}}`)
		res, err := c.RemoveFromContactGroup(ctx, "alice", "g", []ContactItem{C2C("bob")})
		if err != nil {
			t.Fatal(err)
		}
		if it := res.UpdateGroupResult.ContactResultItem[0]; it.ResultCode != 50002 || it.ContactOptType != ContactOptRemove || res.UpdateGroupResult.GroupID != 3 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("GetListGroupIdAndMarks", func(t *testing.T) {
		answer("/v4/recentcontact/get_list", `{"CompleteFlag":1,"TimeStamp":1630997332,"StartIndex":0,"TopTimeStamp":0,"TopStartIndex":0,
			"SessionItem":[{"Type":2,"GroupId":"@TGS#1","MsgTime":1630997332,"TopFlag":1,"StandardMark":"11","CustomMark":"x","ContactGroupId":[1,2]},
			{"Type":1,"To_Account":"bob","MsgTime":1630997000,"TopFlag":0}],
			"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"ErrorDisplay":""}`)
		res, err := c.GetFullList(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		g, b := res.Items[0], res.Items[1]
		if g.Contact() != GroupChat("@TGS#1") || g.TopFlag != 1 || len(g.ContactGroupID) != 2 || g.StandardMark != "11" || b.Contact() != C2C("bob") || res.Pages != 1 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("GetListStalledCursor", func(t *testing.T) {
		answer("/v4/recentcontact/get_list", `{"ActionStatus":"OK","ErrorCode":0,"CompleteFlag":0,"SessionItem":[{"Type":1,"To_Account":"bob"}]}`)
		_, err := c.GetFullList(ctx, "alice")
		if e, _ := AsError(err); e == nil || e.Kind != KindBadAnswer {
			t.Fatalf("%v", err)
		}
	})
	t.Run("GetContactGroupNextStartIndexZeroEnds", func(t *testing.T) {
		// CompleteFlag 0 but nothing to continue from: the walk ends instead of looping.
		answer("/v4/recentcontact/get_contact_group", `{"ActionStatus":"OK","ErrorCode":0,"CompleteFlag":0,"NextStartIndex":0,
			"GroupItem":[{"GroupName":"a","GroupId":1}],"ContactItem":[{"Type":1,"To_Account":"bob","ContactGroupId":[1],"Timestamp":5}]}`)
		res, err := c.GetAllContactGroups(ctx, "alice")
		if err != nil || res.Pages != 1 || len(res.Groups) != 1 || res.Contacts[0].Timestamp != 5 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("GetContactGroupStalled", func(t *testing.T) {
		// A page that points backwards fails instead of looping.
		answer("/v4/recentcontact/get_contact_group", `{"ActionStatus":"OK","ErrorCode":0,"CompleteFlag":0,"NextStartIndex":-3}`)
		_, err := c.GetAllContactGroups(ctx, "alice")
		if e, _ := AsError(err); e == nil || e.Kind != KindBadAnswer {
			t.Fatalf("%v", err)
		}
	})
	t.Run("PortraitNumericValue", func(t *testing.T) {
		answer("/v4/profile/portrait_get", `{"UserProfileItem":[{"To_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"Bob"},
			{"Tag":"Tag_Profile_IM_Level","Value":3}],"ResultCode":0,"ResultInfo":""},{"To_Account":"ghost","ResultCode":40003,"ResultInfo":"nope"}],
			"Fail_Account":["ghost"],"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ErrorDisplay":""}`)
		res, err := c.PortraitGet(ctx, []string{"bob", "ghost"}, []string{TagNick, "Tag_Profile_IM_Level"})
		if err != nil {
			t.Fatal(err)
		}
		bob := res.UserProfileItem[0]
		if bob.Tag(TagNick) != "Bob" || bob.Tag("Tag_Profile_IM_Level") != "3" || bob.Tag(TagImage) != "" || res.UserProfileItem[1].ResultCode != 40003 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("AccountCheckNotImported", func(t *testing.T) {
		answer("/v4/im_open_login_svc/account_check", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[
			{"UserID":"a","ResultCode":0,"ResultInfo":"","AccountStatus":"Imported"},{"UserID":"b","ResultCode":0,"ResultInfo":"","AccountStatus":"NotImported"}]}`)
		res, err := c.AccountCheck(ctx, []string{"a", "b"})
		if err != nil || !res[0].Exists() || res[1].Exists() {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("GroupInfoPerItem", func(t *testing.T) {
		answer("/v4/group_open_http_svc/get_group_info", `{"ActionStatus":"OK","ErrorCode":0,"GroupInfo":[
			{"GroupId":"@TGS#1","ErrorCode":0,"Type":"Public","Name":"n","FaceUrl":"https://x/y.png"},{"GroupId":"@TGS#2","ErrorCode":10010,"ErrorInfo":"gone"}]}`)
		res, err := c.GetGroupInfo(ctx, []string{"@TGS#1", "@TGS#2"}, nil)
		if err != nil || res[0].FaceURL != "https://x/y.png" || res[1].ErrorCode != 10010 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("UnreadErrorList", func(t *testing.T) {
		answer("/v4/openim/get_c2c_unread_msg_num", `{"ActionStatus":"OK","ErrorCode":0,"To_Account":"a",
			"C2CUnreadMsgNumList":[{"Peer_Account":"b","C2CUnreadMsgNum":4}],"ErrorList":[{"Peer_Account":"z","ErrorCode":70107}]}`)
		res, err := c.C2CUnread(ctx, "a", []string{"b", "z"})
		if err != nil || res.C2CUnreadMsgNumList[0].C2CUnreadMsgNum != 4 || res.ErrorList[0].ErrorCode != 70107 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("RoamAndGroupMessages", func(t *testing.T) {
		answer("/v4/openim/admin_getroammsg", `{"ActionStatus":"OK","ErrorCode":0,"Complete":1,"MsgCnt":1,"LastMsgTime":9,"LastMsgKey":"k",
			"MsgList":[{"From_Account":"b","To_Account":"a","MsgSeq":1,"MsgRandom":2,"MsgTimeStamp":9,"MsgFlagBits":0,"IsPeerRead":0,"MsgKey":"k",
			"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}},{"MsgType":"TIMFaceElem","MsgContent":{"Index":1}}]}]}`)
		roam, err := c.AdminGetRoamMsg(ctx, RoamMsgRequest{OperatorAccount: "a", PeerAccount: "b", MaxCnt: 1, MaxTime: 10})
		if err != nil || roam.MsgList[0].MsgBody[0].Text() != "hi" || roam.MsgList[0].MsgBody[1].Text() != "" {
			t.Fatalf("%+v %v", roam, err)
		}
		answer("/v4/group_open_http_svc/group_msg_get_simple", `{"ActionStatus":"OK","ErrorCode":0,"GroupId":"@TGS#1","IsFinished":1,
			"RspMsgList":[{"From_Account":"b","IsPlaceMsg":0,"IsSystemMsg":0,"MsgPriority":1,"MsgRandom":1,"MsgSeq":5,"MsgTimeStamp":9,
			"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"yo"}}]}]}`)
		gm, err := c.GroupMsgGetSimple(ctx, GroupMsgRequest{GroupID: "@TGS#1", ReqMsgNumber: 1})
		if err != nil || gm.RspMsgList[0].MsgBody[0].Text() != "yo" || gm.IsFinished != 1 {
			t.Fatalf("%+v %v", gm, err)
		}
	})
	t.Run("InvalidArgumentsNotSent", func(t *testing.T) {
		count := func() int { rs.mu.Lock(); defer rs.mu.Unlock(); return len(rs.requests) }
		n := count()
		for _, err := range []error{
			second(c.SearchContactGroup(ctx, "a", make([]ContactItem, MaxSearchContacts+1))),
			second(c.GroupMsgGetSimple(ctx, GroupMsgRequest{GroupID: "g", ReqMsgNumber: 21})),
			second(c.RenameContactGroup(ctx, "a", "x", "")),
			second(c.UpdateContactGroupMembers(ctx, "a", "g", []ContactUpdateItem{{ContactOptType: 3, ContactItem: C2C("b")}})),
			second(c.PortraitGet(ctx, []string{"a"}, nil)),
		} {
			if e, _ := AsError(err); e == nil || e.Kind != KindInvalid {
				t.Fatalf("%v", err)
			}
		}
		if count() != n {
			t.Fatal("an invalid request was sent")
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestConversationIDs(t *testing.T) {
	for _, id := range []string{"c2c_bob", "group_@TGS#1ABC"} {
		c, err := ParseConversationID(id)
		if err != nil || c.ConversationID() != id {
			t.Fatalf("%s: %+v %v", id, c, err)
		}
	}
	for _, id := range []string{"", "c2c_", "group_", "bob", "C2C_bob"} {
		if _, err := ParseConversationID(id); err == nil {
			t.Fatalf("%q accepted", id)
		}
	}
}
