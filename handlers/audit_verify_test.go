package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAuditTrailBrokenBanner: once the trail is known to fail verification,
// the audit pages say so in a red banner.
func TestAuditTrailBrokenBanner(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	if err := app.db.GenerateAuditEvents(ctx, 50, testStart.Add(24*time.Hour), 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := app.db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	cl := app.signIn(t, "auditor")
	doc, _ := auditGet(t, cl, "/audit", http.StatusOK)
	if doc.Find(`[data-testid="trail-broken"]`).Length() != 0 {
		t.Fatal("a banner before anything is known")
	}
	// Checkpoints that no longer verify: as if they were forged.
	if err := app.db.SetAuditKey([]byte("ffffffffffffffffffffffffffffffff")); err != nil {
		t.Fatal(err)
	}
	verifyUntilDone(t, app, cl, startVerify(t, cl))
	for page, status := range map[string]int{"/audit": http.StatusOK, "/audit/verify/no-such-job": http.StatusNotFound} {
		doc, _ := auditGet(t, cl, page, status)
		b := doc.Find(`[data-testid="trail-broken"]`)
		if b.Length() != 1 || b.AttrOr("role", "") != "alert" || !strings.Contains(b.Text(), "checkpoint:1") {
			t.Fatalf("%s: banner %q", page, b.Text())
		}
	}
}
