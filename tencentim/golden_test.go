package tencentim

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current request bodies")

const (
	testAppID = 1400000000
	testAdmin = "administrator"
	testKey   = "unit-test-secret-key"
)

// recorded is one request a recordingServer received.
type recorded struct {
	method, path, rawQuery, contentType string
	body                                []byte
}

// recordingServer records requests and answers each command with a canned
// answer (status OK and nothing else by default).
type recordingServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	answers  map[string]string // path → body
}

func newRecordingServer(t *testing.T) *recordingServer {
	rs := &recordingServer{answers: map[string]string{}}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.requests = append(rs.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body})
		answer, ok := rs.answers[r.URL.Path]
		rs.mu.Unlock()
		if !ok {
			answer = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`
		}
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) last(t *testing.T) recorded {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.requests) == 0 {
		t.Fatal("no request recorded")
	}
	return rs.requests[len(rs.requests)-1]
}

func newTestClient(t *testing.T, endpoint string) *Client {
	t.Helper()
	c, err := New(Config{SDKAppID: testAppID, Admin: testAdmin, SecretKey: testKey, Endpoint: endpoint,
		Timeout: 2 * time.Second, RateShare: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRequestBodiesGolden sends each endpoint's request through the client
// and compares the body the server received with testdata/golden/<name>.json,
// byte for byte after both are indented the same way.
func TestRequestBodiesGolden(t *testing.T) {
	rs := newRecordingServer(t)
	c := newTestClient(t, rs.URL)
	ctx := context.Background()
	cases := []struct {
		name string
		path string
		call func() error
	}{
		{"account_check", "/v4/im_open_login_svc/account_check", func() error {
			_, err := c.AccountCheck(ctx, []string{"alice", "ghost"})
			return err
		}},
		{"portrait_get", "/v4/profile/portrait_get", func() error {
			_, err := c.PortraitGet(ctx, []string{"bob", "ghost"}, []string{TagNick, TagImage})
			return err
		}},
		{"get_group_info", "/v4/group_open_http_svc/get_group_info", func() error {
			_, err := c.GetGroupInfo(ctx, []string{"@TGS#1PRODUCT", "@TGS#9DISBANDED"}, nil)
			return err
		}},
		{"group_msg_get_simple", "/v4/group_open_http_svc/group_msg_get_simple", func() error {
			_, err := c.GroupMsgGetSimple(ctx, GroupMsgRequest{GroupID: "@TGS#1PRODUCT", ReqMsgNumber: 1})
			return err
		}},
		{"get_list_first", "/v4/recentcontact/get_list", func() error {
			_, err := c.GetList(ctx, "alice", ListCursor{})
			return err
		}},
		{"get_list_next", "/v4/recentcontact/get_list", func() error {
			_, err := c.GetList(ctx, "alice", ListCursor{TimeStamp: 1767164400, StartIndex: 100, TopTimeStamp: 1767225000, TopStartIndex: 2})
			return err
		}},
		{"get_contact_group", "/v4/recentcontact/get_contact_group", func() error {
			_, err := c.GetContactGroup(ctx, "alice", 0)
			return err
		}},
		{"search_contact_group", "/v4/recentcontact/search_contact_group", func() error {
			_, err := c.SearchContactGroup(ctx, "alice", []ContactItem{C2C("bob"), GroupChat("@TGS#1PRODUCT")})
			return err
		}},
		{"create_contact_group", "/v4/recentcontact/create_contact_group", func() error {
			_, err := c.CreateContactGroup(ctx, "alice", "产品体验", []ContactItem{C2C("bob"), GroupChat("@TGS#1PRODUCT")})
			return err
		}},
		{"create_contact_group_no_contacts", "/v4/recentcontact/create_contact_group", func() error {
			_, err := c.CreateContactGroup(ctx, "alice", "Later", nil)
			return err
		}},
		{"update_contact_group_rename", "/v4/recentcontact/update_contact_group", func() error {
			_, err := c.RenameContactGroup(ctx, "alice", "Work", "Office")
			return err
		}},
		{"update_contact_group_add", "/v4/recentcontact/update_contact_group", func() error {
			_, err := c.AddToContactGroup(ctx, "alice", "Work", []ContactItem{C2C("bob"), GroupChat("@TGS#2HIKERS")})
			return err
		}},
		{"update_contact_group_remove", "/v4/recentcontact/update_contact_group", func() error {
			_, err := c.RemoveFromContactGroup(ctx, "alice", "Work", []ContactItem{C2C("carol")})
			return err
		}},
		{"del_contact_group", "/v4/recentcontact/del_contact_group", func() error {
			_, err := c.DeleteContactGroup(ctx, "alice", "Later")
			return err
		}},
		{"get_c2c_unread_msg_num_total", "/v4/openim/get_c2c_unread_msg_num", func() error {
			_, err := c.C2CUnread(ctx, "alice", nil)
			return err
		}},
		{"get_c2c_unread_msg_num_peers", "/v4/openim/get_c2c_unread_msg_num", func() error {
			_, err := c.C2CUnread(ctx, "alice", []string{"bob", "ghost"})
			return err
		}},
		{"admin_getroammsg", "/v4/openim/admin_getroammsg", func() error {
			_, err := c.AdminGetRoamMsg(ctx, RoamMsgRequest{OperatorAccount: "alice", PeerAccount: "bob", MaxCnt: 1, MaxTime: 1767225600})
			return err
		}},
		{"admin_getroammsg_next", "/v4/openim/admin_getroammsg", func() error {
			_, err := c.AdminGetRoamMsg(ctx, RoamMsgRequest{OperatorAccount: "alice", PeerAccount: "bob", MaxCnt: 20,
				MinTime: 1766620800, MaxTime: 1767225000, LastMsgKey: "7_123_bob"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			got := rs.last(t)
			if got.method != http.MethodPost || got.path != tc.path || got.contentType != "application/json" {
				t.Fatalf("%s %s (%s), want POST %s (application/json)", got.method, got.path, got.contentType, tc.path)
			}
			var gotIndented bytes.Buffer
			if err := json.Indent(&gotIndented, got.body, "", "  "); err != nil {
				t.Fatalf("body %q: %v", got.body, err)
			}
			gotIndented.WriteByte('\n')
			file := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.WriteFile(file, gotIndented.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var wantIndented bytes.Buffer
			if err := json.Indent(&wantIndented, bytes.TrimSpace(want), "", "  "); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			wantIndented.WriteByte('\n')
			if !bytes.Equal(gotIndented.Bytes(), wantIndented.Bytes()) {
				t.Fatalf("body differs from %s\ngot:\n%s\nwant:\n%s", file, gotIndented.Bytes(), wantIndented.Bytes())
			}
		})
	}
}

// TestRequestURL checks the query: documented order, a verifiable admin
// UserSig, a fresh 32-bit random per call.
func TestRequestURL(t *testing.T) {
	rs := newRecordingServer(t)
	c := newTestClient(t, rs.URL+"/")
	for range 2 {
		if _, err := c.GetContactGroup(context.Background(), "alice", 0); err != nil {
			t.Fatal(err)
		}
	}
	randoms := map[string]bool{}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.requests {
		q := parseQueryOrdered(t, r.rawQuery)
		keys := []string{}
		for _, kv := range q {
			keys = append(keys, kv[0])
		}
		if got, want := keys, []string{"sdkappid", "identifier", "usersig", "random", "contenttype"}; !equalStrings(got, want) {
			t.Fatalf("query keys %v, want %v", got, want)
		}
		if q[0][1] != strconv.Itoa(testAppID) || q[1][1] != testAdmin || q[4][1] != "json" {
			t.Fatalf("query %v", q)
		}
		if err := VerifyUserSig(testAppID, testKey, testAdmin, q[2][1], time.Now()); err != nil {
			t.Fatalf("usersig: %v", err)
		}
		if _, err := strconv.ParseUint(q[3][1], 10, 32); err != nil {
			t.Fatalf("random %q: %v", q[3][1], err)
		}
		randoms[q[3][1]] = true
	}
	if len(randoms) != 2 {
		t.Fatalf("random repeated: %v", randoms)
	}
}

func parseQueryOrdered(t *testing.T, raw string) [][2]string {
	t.Helper()
	var out [][2]string
	for _, part := range bytes.Split([]byte(raw), []byte("&")) {
		k, v, _ := bytes.Cut(part, []byte("="))
		val, err := urlUnescape(string(v))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{string(k), val})
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }
