package tencentim

import (
	"encoding/json"
	"errors"
	"strings"
)

// Status is the common part of every answer.
type Status struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
	ErrorDisplay string `json:"ErrorDisplay,omitempty"`
}

func (s *Status) status() *Status { return s }

// Conversation types as REST spells them.
const (
	ContactC2C   = 1
	ContactGroup = 2
)

// ContactItem references a conversation in group/mark calls: Type 1 with
// To_Account, or Type 2 with ToGroupId.
type ContactItem struct {
	Type      int    `json:"Type"`
	ToAccount string `json:"To_Account,omitempty"`
	ToGroupID string `json:"ToGroupId,omitempty"`
}

// C2C returns the ContactItem of the one-to-one conversation with userID.
func C2C(userID string) ContactItem { return ContactItem{Type: ContactC2C, ToAccount: userID} }

// GroupChat returns the ContactItem of the group chat groupID.
func GroupChat(groupID string) ContactItem {
	return ContactItem{Type: ContactGroup, ToGroupID: groupID}
}

// ConversationID is the SDK's conversation ID: c2c_<userID> or group_<groupID>.
func (c ContactItem) ConversationID() string {
	if c.Type == ContactGroup {
		return "group_" + c.ToGroupID
	}
	return "c2c_" + c.ToAccount
}

// ErrConversationID is returned by ParseConversationID for anything but
// c2c_<id> or group_<id>.
var ErrConversationID = errors.New("tencentim: conversation ID must be c2c_<userID> or group_<groupID>")

// ParseConversationID turns c2c_<userID> / group_<groupID> into a ContactItem.
func ParseConversationID(id string) (ContactItem, error) {
	switch {
	case strings.HasPrefix(id, "c2c_") && len(id) > len("c2c_"):
		return C2C(id[len("c2c_"):]), nil
	case strings.HasPrefix(id, "group_") && len(id) > len("group_"):
		return GroupChat(id[len("group_"):]), nil
	}
	return ContactItem{}, ErrConversationID
}

// GroupItem is a conversation group as answers list it. GroupId is assigned
// by the service and is the group's stable identity; requests use names.
type GroupItem struct {
	GroupName string `json:"GroupName"`
	GroupID   int64  `json:"GroupId"`
}

// ContactResult is the per-conversation result of create_contact_group.
type ContactResult struct {
	ContactItem ContactItem `json:"ContactItem"`
	ResultCode  int         `json:"ResultCode"`
	ResultInfo  string      `json:"ResultInfo"`
}

// ContactEntry is a conversation's group and mark data
// (search_contact_group, get_contact_group).
type ContactEntry struct {
	Type           int     `json:"Type"`
	ToAccount      string  `json:"To_Account"`
	ToGroupID      string  `json:"ToGroupId"`
	StandardMark   string  `json:"StandardMark"`
	CustomMark     string  `json:"CustomMark"`
	ContactGroupID []int64 `json:"ContactGroupId"`
	Timestamp      int64   `json:"Timestamp"`
}

// Contact returns the entry's ContactItem.
func (e ContactEntry) Contact() ContactItem {
	return ContactItem{Type: e.Type, ToAccount: e.ToAccount, ToGroupID: e.ToGroupID}
}

// ---- create_contact_group ----

// CreateContactGroupRequest is the body of recentcontact/create_contact_group.
// The service takes one group per call.
type CreateContactGroupRequest struct {
	FromAccount      string             `json:"From_Account"`
	GroupContactItem []GroupContactItem `json:"GroupContactItem"`
}

// GroupContactItem names the new group and its first conversations.
type GroupContactItem struct {
	GroupName   string        `json:"GroupName"`
	ContactItem []ContactItem `json:"ContactItem,omitempty"`
}

// CreateContactGroupResponse answers create_contact_group.
type CreateContactGroupResponse struct {
	Status
	GroupResultItem []GroupResultItem `json:"GroupResultItem"`
}

// GroupResultItem is the created group and its per-conversation results.
type GroupResultItem struct {
	GroupItem  GroupItem       `json:"GroupItem"`
	ResultItem []ContactResult `json:"ResultItem"`
}

// ---- update_contact_group ----

// Update types of update_contact_group.
const (
	UpdateGroupRename  = 1 // UpdateGroupType: rename OldGroupName to NewGroupName
	UpdateGroupMembers = 2 // UpdateGroupType: add/remove conversations of OldGroupName
	ContactOptAdd      = 1 // ContactOptType: add to the group
	ContactOptRemove   = 2 // ContactOptType: remove from the group
)

// UpdateContactGroupRequest is the body of recentcontact/update_contact_group.
// UpdateType is always 1 (the only documented value).
type UpdateContactGroupRequest struct {
	FromAccount string      `json:"From_Account"`
	UpdateType  int         `json:"UpdateType"`
	UpdateGroup UpdateGroup `json:"UpdateGroup"`
}

// UpdateGroup says what to change. A rename carries NewGroupName and no
// ContactUpdateItem; an add/remove carries ContactUpdateItem and no NewGroupName.
type UpdateGroup struct {
	UpdateGroupType   int                 `json:"UpdateGroupType"`
	OldGroupName      string              `json:"OldGroupName"`
	NewGroupName      string              `json:"NewGroupName,omitempty"`
	ContactUpdateItem []ContactUpdateItem `json:"ContactUpdateItem,omitempty"`
}

// ContactUpdateItem adds (ContactOptAdd) or removes (ContactOptRemove) one conversation.
type ContactUpdateItem struct {
	ContactOptType int         `json:"ContactOptType"`
	ContactItem    ContactItem `json:"ContactItem"`
}

// UpdateContactGroupResponse answers update_contact_group. The shape follows
// the doocs Java models; Tencent's page shows no sample answer.
type UpdateContactGroupResponse struct {
	Status
	UpdateType        int               `json:"UpdateType"`
	UpdateGroupResult UpdateGroupResult `json:"UpdateGroupResult"`
}

// UpdateGroupResult is the changed group and its per-conversation results.
type UpdateGroupResult struct {
	UpdateGroupType   int                   `json:"UpdateGroupType"`
	GroupName         string                `json:"GroupName"`
	GroupID           int64                 `json:"GroupId"`
	OldGroupName      string                `json:"OldGroupName"`
	ContactResultItem []ContactUpdateResult `json:"ContactResultItem"`
}

// ContactUpdateResult is the result of one ContactUpdateItem.
type ContactUpdateResult struct {
	ContactOptType int         `json:"ContactOptType"`
	ContactItem    ContactItem `json:"ContactItem"`
	ResultCode     int         `json:"ResultCode"`
	ResultInfo     string      `json:"ResultInfo"`
}

// ---- del_contact_group ----

// DelContactGroupRequest is the body of recentcontact/del_contact_group; the
// service takes one name per call.
type DelContactGroupRequest struct {
	FromAccount string   `json:"From_Account"`
	GroupName   []string `json:"GroupName"`
}

// DelContactGroupResponse answers del_contact_group.
type DelContactGroupResponse struct {
	Status
	GroupItem []GroupItem `json:"GroupItem"`
}

// ---- search_contact_group ----

// MaxSearchContacts is the documented cap of ContactItem per search.
const MaxSearchContacts = 300

// SearchContactGroupRequest is the body of recentcontact/search_contact_group.
type SearchContactGroupRequest struct {
	FromAccount string        `json:"From_Account"`
	ContactItem []ContactItem `json:"ContactItem"`
}

// SearchContactGroupResponse answers search_contact_group.
type SearchContactGroupResponse struct {
	Status
	ContactResultItem []ContactEntry `json:"ContactResultItem"`
	GroupItem         []GroupItem    `json:"GroupItem"`
}

// ---- get_contact_group ----

// GetContactGroupRequest is the body of recentcontact/get_contact_group.
type GetContactGroupRequest struct {
	FromAccount string `json:"From_Account"`
	StartIndex  int64  `json:"StartIndex"`
}

// GetContactGroupResponse is one page of get_contact_group.
type GetContactGroupResponse struct {
	Status
	ContactItem    []ContactEntry `json:"ContactItem"`
	GroupItem      []GroupItem    `json:"GroupItem"`
	CompleteFlag   int            `json:"CompleteFlag"`
	NextStartIndex int64          `json:"NextStartIndex"`
}

// ---- get_list ----

// AssistFlagsAll asks get_list for complete data (pinned, empty conversations,
// pinned paging, marks and groups): the value the 2026 docs prescribe.
const AssistFlagsAll = 63

// ListCursor is get_list's position: all zero for the first page, then the
// four values of the previous answer, echoed unchanged.
type ListCursor struct {
	TimeStamp     int64 `json:"TimeStamp"`
	StartIndex    int64 `json:"StartIndex"`
	TopTimeStamp  int64 `json:"TopTimeStamp"`
	TopStartIndex int64 `json:"TopStartIndex"`
}

// GetListRequest is the body of recentcontact/get_list: all six keys, always.
type GetListRequest struct {
	FromAccount   string `json:"From_Account"`
	TimeStamp     int64  `json:"TimeStamp"`
	StartIndex    int64  `json:"StartIndex"`
	TopTimeStamp  int64  `json:"TopTimeStamp"`
	TopStartIndex int64  `json:"TopStartIndex"`
	AssistFlags   int    `json:"AssistFlags"`
}

// SessionItem is one conversation of get_list. Group chats carry GroupId
// (not ToGroupId); marks and groups come with AssistFlags 63.
type SessionItem struct {
	Type           int     `json:"Type"`
	ToAccount      string  `json:"To_Account"`
	GroupID        string  `json:"GroupId"`
	MsgTime        int64   `json:"MsgTime"`
	TopFlag        int     `json:"TopFlag"`
	StandardMark   string  `json:"StandardMark"`
	CustomMark     string  `json:"CustomMark"`
	ContactGroupID []int64 `json:"ContactGroupId"`
}

// Contact returns the item's ContactItem.
func (s SessionItem) Contact() ContactItem {
	return ContactItem{Type: s.Type, ToAccount: s.ToAccount, ToGroupID: s.GroupID}
}

// GetListResponse is one page of get_list.
type GetListResponse struct {
	Status
	SessionItem   []SessionItem `json:"SessionItem"`
	CompleteFlag  int           `json:"CompleteFlag"`
	TimeStamp     int64         `json:"TimeStamp"`
	StartIndex    int64         `json:"StartIndex"`
	TopTimeStamp  int64         `json:"TopTimeStamp"`
	TopStartIndex int64         `json:"TopStartIndex"`
}

// Cursor returns the cursor to send for the next page.
func (r *GetListResponse) Cursor() ListCursor {
	return ListCursor{TimeStamp: r.TimeStamp, StartIndex: r.StartIndex, TopTimeStamp: r.TopTimeStamp, TopStartIndex: r.TopStartIndex}
}

// ---- account_check ----

// MaxAccountCheck is the documented cap of accounts per account_check.
const MaxAccountCheck = 100

// AccountCheckRequest is the body of im_open_login_svc/account_check.
type AccountCheckRequest struct {
	CheckItem []CheckItem `json:"CheckItem"`
}

// CheckItem names one account to check.
type CheckItem struct {
	UserID string `json:"UserID"`
}

// AccountCheckResponse answers account_check.
type AccountCheckResponse struct {
	Status
	ResultItem []AccountResult `json:"ResultItem"`
}

// Account statuses of account_check. A missing user is ResultCode 0 with
// NotImported, not an error.
const (
	AccountImported    = "Imported"
	AccountNotImported = "NotImported"
)

// AccountResult is one account's result.
type AccountResult struct {
	UserID        string `json:"UserID"`
	ResultCode    int    `json:"ResultCode"`
	ResultInfo    string `json:"ResultInfo"`
	AccountStatus string `json:"AccountStatus"`
}

// Exists reports whether the account is imported into IM.
func (a AccountResult) Exists() bool { return a.ResultCode == 0 && a.AccountStatus == AccountImported }

// ---- portrait_get ----

// MaxPortraitGet is the cap of accounts per portrait_get.
const MaxPortraitGet = 100

// Profile tags convdesk reads.
const (
	TagNick  = "Tag_Profile_IM_Nick"
	TagImage = "Tag_Profile_IM_Image"
)

// PortraitGetRequest is the body of profile/portrait_get.
type PortraitGetRequest struct {
	ToAccount []string `json:"To_Account"`
	TagList   []string `json:"TagList"`
}

// PortraitGetResponse answers portrait_get.
type PortraitGetResponse struct {
	Status
	UserProfileItem []UserProfileItem `json:"UserProfileItem"`
	FailAccount     []string          `json:"Fail_Account,omitempty"`
}

// UserProfileItem is one account's profile or its per-item failure
// (40003: the account does not exist).
type UserProfileItem struct {
	ToAccount   string        `json:"To_Account"`
	ProfileItem []ProfileItem `json:"ProfileItem"`
	ResultCode  int           `json:"ResultCode"`
	ResultInfo  string        `json:"ResultInfo"`
}

// Tag returns the string value of tag, or "" when it is absent (tags a user
// never set are left out of the answer).
func (u UserProfileItem) Tag(tag string) string {
	for _, p := range u.ProfileItem {
		if p.Tag == tag {
			return p.String()
		}
	}
	return ""
}

// ProfileItem is one tag's value. Values are strings or numbers depending on
// the tag, so the raw JSON is kept.
type ProfileItem struct {
	Tag   string          `json:"Tag"`
	Value json.RawMessage `json:"Value"`
}

// String returns a string value as is and any other value as its JSON text.
func (p ProfileItem) String() string {
	var s string
	if json.Unmarshal(p.Value, &s) == nil {
		return s
	}
	return string(p.Value)
}

// ---- get_group_info ----

// MaxGetGroupInfo is the documented cap of groups per get_group_info.
const MaxGetGroupInfo = 50

// DefaultGroupInfoFilter is what a board needs of a group chat.
var DefaultGroupInfoFilter = []string{"Type", "Name", "FaceUrl"}

// GetGroupInfoRequest is the body of group_open_http_svc/get_group_info.
// ResponseFilter is always sent: without it the service returns everything,
// member lists included.
type GetGroupInfoRequest struct {
	GroupIDList    []string       `json:"GroupIdList"`
	ResponseFilter ResponseFilter `json:"ResponseFilter"`
}

// ResponseFilter limits get_group_info's answer to the listed base fields.
type ResponseFilter struct {
	GroupBaseInfoFilter []string `json:"GroupBaseInfoFilter"`
}

// GetGroupInfoResponse answers get_group_info.
type GetGroupInfoResponse struct {
	Status
	GroupInfo []GroupInfo `json:"GroupInfo"`
}

// GroupInfo is one group chat's fields or its per-item failure (10010:
// missing or disbanded; 10015: invalid ID).
type GroupInfo struct {
	GroupID      string `json:"GroupId"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
	Type         string `json:"Type"`
	Name         string `json:"Name"`
	FaceURL      string `json:"FaceUrl"`
	Introduction string `json:"Introduction"`
	Notification string `json:"Notification"`
	OwnerAccount string `json:"Owner_Account"`
	CreateTime   int64  `json:"CreateTime"`
	LastInfoTime int64  `json:"LastInfoTime"`
	LastMsgTime  int64  `json:"LastMsgTime"`
	NextMsgSeq   int64  `json:"NextMsgSeq"`
	MemberNum    int    `json:"MemberNum"`
	MaxMemberNum int    `json:"MaxMemberNum"`
}

// ---- get_c2c_unread_msg_num ----

// MaxUnreadPeers is the documented cap of Peer_Account per call.
const MaxUnreadPeers = 10

// C2CUnreadRequest is the body of openim/get_c2c_unread_msg_num.
type C2CUnreadRequest struct {
	ToAccount   string   `json:"To_Account"`
	PeerAccount []string `json:"Peer_Account,omitempty"`
}

// C2CUnreadResponse answers get_c2c_unread_msg_num: the total when no peer
// was named, per-peer counts and per-peer errors (70107: no such peer) otherwise.
type C2CUnreadResponse struct {
	Status
	AllC2CUnreadMsgNum  int           `json:"AllC2CUnreadMsgNum"`
	C2CUnreadMsgNumList []PeerUnread  `json:"C2CUnreadMsgNumList"`
	ErrorList           []PeerFailure `json:"ErrorList"`
}

// PeerUnread is one peer's unread count.
type PeerUnread struct {
	PeerAccount     string `json:"Peer_Account"`
	C2CUnreadMsgNum int    `json:"C2CUnreadMsgNum"`
}

// PeerFailure is one peer's failure.
type PeerFailure struct {
	PeerAccount string `json:"Peer_Account"`
	ErrorCode   int    `json:"ErrorCode"`
}

// ---- admin_getroammsg ----

// RoamMsgRequest is the body of openim/admin_getroammsg (current key names:
// Operator_Account/Peer_Account; older docs used From_Account/To_Account).
type RoamMsgRequest struct {
	OperatorAccount string `json:"Operator_Account"`
	PeerAccount     string `json:"Peer_Account"`
	MaxCnt          int    `json:"MaxCnt"`
	MinTime         int64  `json:"MinTime"`
	MaxTime         int64  `json:"MaxTime"`
	LastMsgKey      string `json:"LastMsgKey,omitempty"`
}

// RoamMsgResponse answers admin_getroammsg.
type RoamMsgResponse struct {
	Status
	Complete    int       `json:"Complete"`
	MsgCnt      int       `json:"MsgCnt"`
	LastMsgTime int64     `json:"LastMsgTime"`
	LastMsgKey  string    `json:"LastMsgKey"`
	MsgList     []RoamMsg `json:"MsgList"`
}

// RoamMsg is one C2C message.
type RoamMsg struct {
	FromAccount     string    `json:"From_Account"`
	ToAccount       string    `json:"To_Account"`
	MsgSeq          int64     `json:"MsgSeq"`
	MsgRandom       int64     `json:"MsgRandom"`
	MsgTimeStamp    int64     `json:"MsgTimeStamp"`
	MsgFlagBits     int       `json:"MsgFlagBits"`
	IsPeerRead      int       `json:"IsPeerRead"`
	MsgKey          string    `json:"MsgKey"`
	MsgBody         []MsgElem `json:"MsgBody"`
	CloudCustomData string    `json:"CloudCustomData"`
}

// MsgElem is one element of a message body.
type MsgElem struct {
	MsgType    string          `json:"MsgType"`
	MsgContent json.RawMessage `json:"MsgContent"`
}

// Text returns the text of a TIMTextElem, or "" for other element types.
func (m MsgElem) Text() string {
	if m.MsgType != "TIMTextElem" {
		return ""
	}
	var c struct {
		Text string `json:"Text"`
	}
	_ = json.Unmarshal(m.MsgContent, &c)
	return c.Text
}

// ---- group_msg_get_simple ----

// MaxGroupMsgs is the documented cap of ReqMsgNumber.
const MaxGroupMsgs = 20

// GroupMsgRequest is the body of group_open_http_svc/group_msg_get_simple.
// ReqMsgSeq 0 (left out) means "from the newest".
type GroupMsgRequest struct {
	GroupID         string `json:"GroupId"`
	ReqMsgNumber    int    `json:"ReqMsgNumber"`
	ReqMsgSeq       int64  `json:"ReqMsgSeq,omitempty"`
	WithRecalledMsg int    `json:"WithRecalledMsg,omitempty"`
	TopicID         string `json:"TopicId,omitempty"`
}

// GroupMsgResponse answers group_msg_get_simple.
type GroupMsgResponse struct {
	Status
	GroupID    string     `json:"GroupId"`
	IsFinished int        `json:"IsFinished"`
	RspMsgList []GroupMsg `json:"RspMsgList"`
}

// GroupMsg is one group message. IsPlaceMsg 1 = deleted/expired, 2 = recalled.
type GroupMsg struct {
	FromAccount  string          `json:"From_Account"`
	IsPlaceMsg   int             `json:"IsPlaceMsg"`
	IsSystemMsg  int             `json:"IsSystemMsg"`
	MsgBody      []MsgElem       `json:"MsgBody"`
	MsgPriority  json.RawMessage `json:"MsgPriority,omitempty"`
	MsgRandom    int64           `json:"MsgRandom"`
	MsgSeq       int64           `json:"MsgSeq"`
	MsgTimeStamp int64           `json:"MsgTimeStamp"`
	MsgKey       string          `json:"MsgKey"`
}
