package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLoopbackURL(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.0.0.1:1/", "http://127.0.0.2:9000"} {
		if _, err := loopbackURL(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"http://localhost:8080",     // a name could resolve elsewhere
		"http://10.0.0.1:8080",      // not loopback
		"http://[::1]:8080",         // 127.0.0.1 only
		"https://127.0.0.1:8080",    // not http
		"http://127.0.0.1",          // no port
		"http://127.0.0.1:80/users", // not a base URL
		"http://user@127.0.0.1:80",
		"127.0.0.1:8080",
		"http://example.com:80",
		"http://0.0.0.0:8080",
	} {
		if _, err := loopbackURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseAnchors(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c, err := parseAnchors([]string{"--bin", "/tmp/convdesk"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.Requests != 800 || c.Block != 50 || c.Staff != 16 {
			t.Errorf("defaults %+v", c)
		}
	})
	for _, bad := range [][]string{
		{}, // neither --bin nor --url
		{"--bin", "x", "--url", "http://127.0.0.1:1"}, // both
		{"--url", "http://192.168.1.2:8080"},
		{"--bin", "x", "--requests", "0"},
		{"--bin", "x", "--requests", "10", "--block", "20"},
		{"--bin", "x", "--duration", "2h"},
		{"--bin", "x", "--staff", "0"},
		{"--bin", "x", "--only", "everything"},
		{"--url", "http://127.0.0.1:1", "--audit-db", "/x.db"},
		{"--bin", "x", "--backend", "tencent"}, // no --tim-endpoint
		{"--bin", "x", "--backend", "tencent", "--tim-endpoint", "http://203.0.113.9:8090"},
		{"--bin", "x", "extra"},
	} {
		if _, err := parseAnchors(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseMixed(t *testing.T) {
	c, err := parseMixed([]string{"--url", "http://127.0.0.1:8080", "--staff", "200", "--duration", "20s"}, io.Discard)
	if err != nil || c.Staff != 200 || c.Duration != 20*time.Second {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range [][]string{
		{"--url", "http://127.0.0.1:8080", "--staff", "0"},
		{"--url", "http://127.0.0.1:8080", "--staff", "5000"},
		{"--url", "http://127.0.0.1:8080", "--requests", "0"},
		{"--url", "http://127.0.0.1:8080", "--duration", "0s"},
		{"--url", "http://localhost:8080"},
	} {
		if _, err := parseMixed(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestInterleave(t *testing.T) {
	var order []string
	side := func(name string) step {
		return func(context.Context) (time.Duration, error) {
			order = append(order, name)
			return time.Millisecond, nil
		}
	}
	d, err := interleave(context.Background(), 5, 2, side("a"), side("b"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, ""), "aabbaabbab"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	if len(d[0]) != 5 || len(d[1]) != 5 {
		t.Errorf("counts %d %d", len(d[0]), len(d[1]))
	}
}

func TestParseBoard(t *testing.T) {
	page := `<div id="board-state"><input type="hidden" name="version" value="v:1/2" data-testid="board-version"/></div>
<section data-testid="column" data-group=""><ul><li data-testid="card" data-conversation="c2c_x"></li></ul></section>
<section data-testid="column" data-group="g-a"><h2><span class="column-name" title="产品体验">产品体验</span></h2>
<ul><li data-testid="card" data-conversation="c2c_a"></li><li data-testid="card" data-conversation="c2c_b"></li></ul></section>
<section data-testid="column" data-group="g b"><h2><span class="column-name" title="需求研发">需求研发</span></h2>
<ul><li data-testid="card" data-conversation="c2c_a"></li></ul></section>`
	b, err := parseBoard([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != "v:1/2" || len(b.Columns) != 2 {
		t.Fatalf("%+v", b)
	}
	a, _ := b.column("产品体验")
	c, _ := b.column("需求研发")
	if a.ID != "g-a" || c.ID != "g b" {
		t.Errorf("IDs %q %q", a.ID, c.ID)
	}
	if conv, ok := movable(a, c); !ok || conv != "c2c_b" {
		t.Errorf("movable %q %v, want c2c_b", conv, ok)
	}
	if v, ok := versionOf([]byte(page)); !ok || v != "v:1/2" {
		t.Errorf("versionOf %q", v)
	}
	if _, err := parseBoard([]byte("<p>no board</p>")); err == nil {
		t.Error("a page without a version accepted")
	}
}

func TestServeBytesRefusesOtherAddresses(t *testing.T) {
	err := serveBytes(context.Background(), []string{"--addr", "0.0.0.0:0"}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve-bytes listened beyond 127.0.0.1")
	}
}

func TestBytesFlag(t *testing.T) {
	b := bytesFlag{}
	if err := b.Set("/audit?q=action%3Agroup.rename=/tmp/a=b/page.html"); err == nil {
		// The file is what follows the last "=".
		if b["/audit?q=action%3Agroup.rename=/tmp/a"] != "b/page.html" {
			t.Errorf("%v", b)
		}
	}
	b = bytesFlag{}
	if err := b.Set("/audit?q=x=/tmp/p.html"); err != nil || b["/audit?q=x"] != "/tmp/p.html" {
		t.Errorf("%v %v", b, err)
	}
	for _, bad := range []string{"nopath", "audit=/x", "/x="} {
		if err := (bytesFlag{}).Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
