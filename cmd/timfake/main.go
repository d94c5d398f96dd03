// Command timfake serves a fake of the Tencent Cloud IM server REST API on
// loopback, with demo users, so convdesk's tencent backend can be run and
// tested without a Tencent account:
//
//	go run ./cmd/timfake
//	go run ./cmd/web --backend tencent --tim-endpoint http://127.0.0.1:8090 \
//	    --tim-sdkappid 1400000000 --tim-admin administrator   # with CONVDESK_TIM_SECRET_KEY set to the demo key
//
// Faults and changes behind the console's back go through the control API
// (no UserSig, JSON bodies):
//
//	curl -XPOST -H 'Content-Type: application/json' 127.0.0.1:8090/__fake/fault \
//	    -d '{"command":"update_contact_group","kind":"timeout","count":1}'
//	curl -XPOST -H 'Content-Type: application/json' 127.0.0.1:8090/__fake/change \
//	    -d '{"user":"alice","op":"rename","group":"Work","new_name":"Office"}'
//	curl 127.0.0.1:8090/__fake/stats
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/convdesk/convdesk/tencentim/timfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "timfake:", err)
		os.Exit(2)
	}
}

// run parses args, serves until ctx ends and reports the URL on ready (when
// not nil) once listening.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("timfake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", timfake.DefaultAddr, "listen address; must be loopback")
	sdkappid := fs.Uint64("sdkappid", timfake.DefaultSDKAppID, "SDKAppID the fake accepts")
	admin := fs.String("admin", timfake.DefaultAdmin, "App admin identifier the fake accepts")
	key := fs.String("secret-key", "", "secret key that signs UserSigs (default: the public demo key "+timfake.DemoSecretKey+")")
	keyFile := fs.String("secret-key-file", "", "file holding the secret key (alternative to --secret-key)")
	pageSize := fs.Int("page-size", timfake.DefaultPageSize, "page size of get_contact_group and get_list")
	firstPageOnly := fs.Bool("group-items-first-page-only", false, "list GroupItem on the first get_contact_group page only")
	verbose := fs.Bool("v", false, "log every refused call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	secret := *key
	switch {
	case *key != "" && *keyFile != "":
		return errors.New("give --secret-key or --secret-key-file, not both")
	case *keyFile != "":
		raw, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		secret = strings.TrimSpace(string(raw))
		if secret == "" {
			return fmt.Errorf("%s is empty", *keyFile)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	r, err := timfake.Start(*addr, timfake.Config{SDKAppID: *sdkappid, Admin: *admin, SecretKey: secret,
		PageSize: *pageSize, GroupItemsFirstPageOnly: *firstPageOnly, Logger: log})
	if err != nil {
		return err
	}
	defer r.Close()
	// The demo key is public, so it is printed for copying into
	// CONVDESK_TIM_SECRET_KEY; a key the operator chose never is.
	keyNote := "secret key: the public demo key " + timfake.DemoSecretKey
	if secret != "" {
		keyNote = "secret key: as given"
	}
	fmt.Fprintf(stdout, "timfake: Tencent IM REST fake on %s (sdkappid %d, admin %q, %s)\ntimfake: demo users alice, carol, dave, erin; control API under %s/__fake/\n",
		r.URL, *sdkappid, *admin, keyNote, r.URL)
	if ready != nil {
		ready(r.URL)
	}
	<-ctx.Done()
	return nil
}
