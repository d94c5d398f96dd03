package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, &out, io.Discard, func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	}
	res, err := http.Get(url + "/__fake/stats")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stats: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), url) {
		t.Fatalf("banner %q does not name %s", out.String(), url)
	}
}

func TestRunRefuses(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"ErrNotLoopback": {"--addr", "0.0.0.0:0"},
		"ErrBothKeys":    {"--secret-key", "a", "--secret-key-file", keyFile},
		"ErrNoKeyFile":   {"--secret-key-file", filepath.Join(t.TempDir(), "missing")},
		"ErrArgs":        {"extra"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(context.Background(), args, io.Discard, io.Discard, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
