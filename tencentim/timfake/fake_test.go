package timfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk/tencentim"
)

// post sends body to command with a valid admin UserSig unless query is given.
func post(t *testing.T, s *Server, command, body string, query url.Values) map[string]any {
	t.Helper()
	if query == nil {
		query = validQuery(t, s.cfg.Admin, s.cfg.SecretKey)
	}
	req := httptest.NewRequest(http.MethodPost, "/v4/"+command+"?"+query.Encode(), strings.NewReader(body))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var ans map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatalf("%s: answer %q: %v", command, rec.Body.String(), err)
	}
	return ans
}

func validQuery(t *testing.T, admin, key string) url.Values {
	t.Helper()
	sig, err := tencentim.GenUserSig(DefaultSDKAppID, key, admin, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"sdkappid": {fmt.Sprint(DefaultSDKAppID)}, "identifier": {admin}, "usersig": {sig},
		"random": {"42"}, "contenttype": {"json"}}
}

func code(ans map[string]any) int {
	f, _ := ans["ErrorCode"].(float64)
	return int(f)
}

func TestStrictBodies(t *testing.T) {
	s := New(Config{})
	for _, tc := range []struct {
		name, command, body string
		code                int
	}{
		{"OK", "recentcontact/get_contact_group", `{"From_Account":"alice","StartIndex":0}`, 0},
		{"ErrEmptyBody", "recentcontact/get_contact_group", ``, 60003},
		{"ErrNotJSON", "recentcontact/get_contact_group", `{"From_Account":`, 60003},
		{"ErrUnknownKey", "recentcontact/get_contact_group", `{"From_Account":"alice","StartIndex":0,"AssistFlags":63}`, 50002},
		{"ErrMissingKey", "recentcontact/get_contact_group", `{"From_Account":"alice"}`, 50002},
		{"ErrWrongType", "recentcontact/get_contact_group", `{"From_Account":"alice","StartIndex":"0"}`, 50002},
		{"ErrNull", "recentcontact/get_contact_group", `{"From_Account":"alice","StartIndex":null}`, 50002},
		{"ErrGetListMissingCursor", "recentcontact/get_list", `{"From_Account":"alice","TimeStamp":0,"StartIndex":0,"TopTimeStamp":0,"AssistFlags":63}`, 50002},
		{"ErrGetListCursorNotEchoed", "recentcontact/get_list", `{"From_Account":"alice","TimeStamp":0,"StartIndex":5,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":63}`, 50002},
		{"ErrKeyCase", "recentcontact/get_contact_group", `{"from_account":"alice","StartIndex":0}`, 50002},
		{"ErrWrongSpelling", "recentcontact/search_contact_group", `{"From_Account":"alice","ContactItem":[{"Type":2,"ToGroupid":"@TGS#1PRODUCT"}]}`, 50002},
		{"ErrEmptyArray", "recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"x","ContactItem":[]}]}`, 50002},
		{"ErrTwoGroups", "recentcontact/create_contact_group", `{"From_Account":"alice","GroupContactItem":[{"GroupName":"x"},{"GroupName":"y"}]}`, 50002},
		{"ErrRenameWithItems", "recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":1,"OldGroupName":"Work","NewGroupName":"W","ContactUpdateItem":[{"ContactOptType":1,"ContactItem":{"Type":1,"To_Account":"bob"}}]}}`, 50002},
		{"ErrAddWithNewName", "recentcontact/update_contact_group", `{"From_Account":"alice","UpdateType":1,"UpdateGroup":{"UpdateGroupType":2,"OldGroupName":"Work","NewGroupName":"W","ContactUpdateItem":[{"ContactOptType":1,"ContactItem":{"Type":1,"To_Account":"bob"}}]}}`, 50002},
		{"ErrTwoNames", "recentcontact/del_contact_group", `{"From_Account":"alice","GroupName":["Work","Later"]}`, 50002},
		{"ErrNoFilter", "group_open_http_svc/get_group_info", `{"GroupIdList":["@TGS#1PRODUCT"]}`, 10004},
		{"ErrTooManyPeers", "openim/get_c2c_unread_msg_num", `{"To_Account":"alice","Peer_Account":["1","2","3","4","5","6","7","8","9","10","11"]}`, 90001},
		{"ErrBadTag", "profile/portrait_get", `{"To_Account":["bob"],"TagList":["Nick"]}`, 40009},
		{"ErrUnknownUser", "recentcontact/get_contact_group", `{"From_Account":"nobody","StartIndex":0}`, 50001},
		{"ErrNoSuchAPI", "recentcontact/mark_contact", `{"From_Account":"alice"}`, 60009},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := post(t, s, tc.command, tc.body, nil)
			if got := code(ans); got != tc.code {
				t.Fatalf("code %d (%v), want %d", got, ans["ErrorInfo"], tc.code)
			}
			if wantStatus := map[bool]string{true: "OK", false: "FAIL"}[tc.code == 0]; ans["ActionStatus"] != wantStatus {
				t.Fatalf("ActionStatus %v", ans["ActionStatus"])
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	s := New(Config{})
	body := `{"From_Account":"alice","StartIndex":0}`
	expired, _ := tencentim.GenUserSig(DefaultSDKAppID, DemoSecretKey, DefaultAdmin, time.Now().Add(-2*time.Hour), time.Hour)
	otherApp, _ := tencentim.GenUserSig(DefaultSDKAppID+1, DemoSecretKey, DefaultAdmin, time.Now(), time.Hour)
	for _, tc := range []struct {
		name string
		mod  func(q url.Values)
		code int
	}{
		{"ErrNoSDKAppID", func(q url.Values) { q.Del("sdkappid") }, 60012},
		{"ErrOtherSDKAppID", func(q url.Values) { q.Set("sdkappid", "1") }, 60006},
		{"ErrNoRandom", func(q url.Values) { q.Del("random") }, 60002},
		{"ErrRandomTooBig", func(q url.Values) { q.Set("random", "4294967296") }, 60002},
		{"ErrContentType", func(q url.Values) { q.Set("contenttype", "xml") }, 60002},
		{"ErrGarbageSig", func(q url.Values) { q.Set("usersig", "garbage") }, 70003},
		{"ErrExpired", func(q url.Values) { q.Set("usersig", expired) }, 70001},
		{"ErrSigForOtherApp", func(q url.Values) { q.Set("usersig", otherApp) }, 70014},
		{"ErrIdentifierNotSig", func(q url.Values) { q.Set("identifier", "alice") }, 70013},
		{"ErrWrongKey", func(q url.Values) {
			sig, _ := tencentim.GenUserSig(DefaultSDKAppID, "wrong", DefaultAdmin, time.Now(), time.Hour)
			q.Set("usersig", sig)
		}, 70009},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := validQuery(t, DefaultAdmin, DemoSecretKey)
			tc.mod(q)
			if got := code(post(t, s, "recentcontact/get_contact_group", body, q)); got != tc.code {
				t.Fatalf("code %d, want %d", got, tc.code)
			}
		})
	}
	t.Run("ErrNotAdmin", func(t *testing.T) {
		if got := code(post(t, s, "recentcontact/get_contact_group", body, validQuery(t, "alice", DemoSecretKey))); got != 60010 {
			t.Fatalf("code %d", got)
		}
	})
	t.Run("ErrNotPOST", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v4/recentcontact/get_contact_group?"+validQuery(t, DefaultAdmin, DemoSecretKey).Encode(), nil))
		if !strings.Contains(rec.Body.String(), "60002") {
			t.Fatal(rec.Body.String())
		}
	})
}

func TestRateLimit(t *testing.T) {
	now := time.Now()
	s := New(Config{RateLimit: 10, Now: func() time.Time { return now }})
	body := `{"CheckItem":[{"UserID":"alice"}]}`
	codes := map[int]int{}
	for range 8 {
		codes[code(post(t, s, "im_open_login_svc/account_check", body, nil))]++
	}
	if codes[0] != 5 || codes[60007] != 3 { // account_check gets half
		t.Fatalf("%v", codes)
	}
	now = now.Add(time.Second)
	if got := code(post(t, s, "im_open_login_svc/account_check", body, nil)); got != 0 {
		t.Fatalf("after a second: %d", got)
	}
	if got := s.Stats()["im_open_login_svc/account_check"]; got != 9 {
		t.Fatalf("stats %d", got)
	}
}

func TestControlAPI(t *testing.T) {
	r, err := Start("", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	do := func(method, path, contentType, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, r.URL+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, _ := do("POST", "/__fake/change", "text/plain", `{}`); st != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain accepted: %d", st)
	}
	if st, body := do("POST", "/__fake/change", "application/json", `{"user":"alice","op":"rename","group":"Work","new_name":"Office"}`); st != http.StatusNoContent {
		t.Fatalf("rename: %d %s", st, body)
	}
	groups, _ := r.Groups("alice")
	if groups[1].Name != "Office" {
		t.Fatalf("%+v", groups[1])
	}
	if st, body := do("POST", "/__fake/change", "application/json", `{"user":"carol","op":"create","group":"x","conversations":["c2c_bob"]}`); st != http.StatusUnprocessableEntity || !strings.Contains(body, "51010") {
		t.Fatalf("21st group: %d %s", st, body)
	}
	if st, _ := do("POST", "/__fake/change", "application/json", `{"user":"alice","op":"create","group":"y"}`); st != http.StatusUnprocessableEntity {
		t.Fatal("create without conversations accepted")
	}
	if st, body := do("POST", "/__fake/fault", "application/json", `{"command":"get_list","kind":"http502","count":1}`); st != http.StatusNoContent {
		t.Fatalf("fault: %d %s", st, body)
	}
	if st, _ := do("POST", "/__fake/fault", "application/json", `{"command":"nope","kind":"http502"}`); st != http.StatusBadRequest {
		t.Fatal("unknown command accepted")
	}
	if st, _ := do("POST", "/__fake/fault", "application/json", `{"command":"get_list","kind":"meteor"}`); st != http.StatusBadRequest {
		t.Fatal("unknown kind accepted")
	}
	q := validQuery(t, DefaultAdmin, DemoSecretKey)
	res, err := http.Post(r.URL+"/v4/recentcontact/get_list?"+q.Encode(), "application/json",
		strings.NewReader(`{"From_Account":"alice","TimeStamp":0,"StartIndex":0,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":63}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("fault not applied: %d", res.StatusCode)
	}
	if _, body := do("GET", "/__fake/stats", "", ""); !strings.Contains(body, `"recentcontact/get_list":1`) {
		t.Fatalf("stats %s", body)
	}
	if st, _ := do("DELETE", "/__fake/stats", "", ""); st != http.StatusNoContent || len(r.Stats()) != 0 {
		t.Fatal("stats not reset")
	}
	if st, body := do("GET", "/__fake/groups?user=alice", "", ""); st != http.StatusOK || !strings.Contains(body, "Office") {
		t.Fatalf("groups %d %s", st, body)
	}
	if st, _ := do("POST", "/__fake/reset", "application/json", ""); st != http.StatusNoContent {
		t.Fatal("reset")
	}
	if groups, _ := r.Groups("alice"); groups[1].Name != "Work" {
		t.Fatal("reset kept the rename")
	}
}

func TestStartOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if err := CheckLoopback(addr); err == nil {
			t.Errorf("%s accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:8090"} {
		if err := CheckLoopback(addr); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
}

// TestDemoData pins the demo users' shape the README and tests rely on.
func TestDemoData(t *testing.T) {
	s := New(Config{})
	for user, want := range map[string][2]int{"alice": {7, 102}, "carol": {20, 200}, "dave": {20, 3000}, "erin": {0, 5}} {
		a := s.accounts[user]
		if len(a.groups) != want[0] || len(a.convs) != want[1] {
			t.Errorf("%s: %d groups, %d conversations, want %v", user, len(a.groups), len(a.convs), want)
		}
	}
	if got := s.accounts["dave"].groupedCount(); got != maxGrouped {
		t.Errorf("dave has %d grouped, want %d", got, maxGrouped)
	}
	if s.accounts[DeletedPeer] != nil || s.groupChats[DisbandedGroupID] != nil {
		t.Error("the deleted peer and the disbanded group must not exist")
	}
}
