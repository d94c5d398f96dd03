package tencentim

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

// sigVectors are produced by testdata/usersig_vectors.py, an independent
// Python standard-library signer (zlib at its default level, so its bytes
// differ from ours; comparison is after decoding).
type sigVectors struct {
	Vectors []struct {
		SDKAppID   uint64 `json:"sdkappid"`
		Key        string `json:"key"`
		Identifier string `json:"identifier"`
		Time       int64  `json:"time"`
		Expire     int64  `json:"expire"`
		HMAC       string `json:"hmac"`
		UserSig    string `json:"usersig"`
	} `json:"vectors"`
}

func loadSigVectors(t *testing.T) sigVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/usersig_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v sigVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestUserSigKnownAnswer(t *testing.T) {
	for _, v := range loadSigVectors(t).Vectors {
		t.Run(v.Identifier, func(t *testing.T) {
			// Their sig, decoded by us: the fields and the HMAC are what we compute.
			doc, err := DecodeUserSig(v.UserSig)
			if err != nil {
				t.Fatal(err)
			}
			want := SigDoc{Ver: "2.0", Identifier: v.Identifier, SDKAppID: v.SDKAppID, Expire: v.Expire, Time: v.Time, Sig: v.HMAC}
			if doc != want {
				t.Fatalf("decoded %+v, want %+v", doc, want)
			}
			if got := sigHMAC(v.Key, v.SDKAppID, v.Identifier, v.Time, v.Expire); got != v.HMAC {
				t.Fatalf("our HMAC %s, theirs %s", got, v.HMAC)
			}
			issued := time.Unix(v.Time, 0)
			if err := VerifyUserSig(v.SDKAppID, v.Key, v.Identifier, v.UserSig, issued); err != nil {
				t.Fatalf("our verifier refuses their sig: %v", err)
			}
			// Our sig for the same inputs decodes to the same document.
			ours, err := GenUserSig(v.SDKAppID, v.Key, v.Identifier, issued, time.Duration(v.Expire)*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			ourDoc, err := DecodeUserSig(ours)
			if err != nil {
				t.Fatal(err)
			}
			if ourDoc != doc {
				t.Fatalf("our document %+v, theirs %+v", ourDoc, doc)
			}
		})
	}
}

func TestUserSigRoundTrip(t *testing.T) {
	issued := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sig, err := GenUserSig(1400000000, "key-1", "administrator", issued, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []rune(sig) {
		if r == '+' || r == '/' || r == '=' {
			t.Fatalf("sig %q holds a URL-unsafe character", sig)
		}
	}
	cases := []struct {
		name     string
		sdkappid uint64
		key, id  string
		sig      string
		now      time.Time
		want     error
	}{
		{"OK", 1400000000, "key-1", "administrator", sig, issued.Add(time.Hour), nil},
		{"ErrSigExpired", 1400000000, "key-1", "administrator", sig, issued.Add(time.Hour + time.Second), ErrSigExpired},
		{"ErrSigMismatch", 1400000000, "key-2", "administrator", sig, issued, ErrSigMismatch},
		{"ErrSigSDKAppID", 1400000001, "key-1", "administrator", sig, issued, ErrSigSDKAppID},
		{"ErrSigIdentifier", 1400000000, "key-1", "alice", sig, issued, ErrSigIdentifier},
		{"ErrSigMalformed", 1400000000, "key-1", "administrator", "not+a+sig", issued, ErrSigMalformed},
		{"ErrSigMalformedZlib", 1400000000, "key-1", "administrator", "AAAA", issued, ErrSigMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := VerifyUserSig(c.sdkappid, c.key, c.id, c.sig, c.now); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestSigCacheRenewal(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	c := &sigCache{sdkappid: 1, key: "k", identifier: "administrator", lifetime: 7 * 24 * time.Hour,
		renew: 24 * time.Hour, now: func() time.Time { return now }}
	first, err := c.get()
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(6*24*time.Hour - time.Second) // just over a day left: reuse
	if again, _ := c.get(); again != first {
		t.Fatal("renewed with more than a day left")
	}
	now = now.Add(time.Second) // exactly a day left: renew
	renewed, _ := c.get()
	if renewed == first {
		t.Fatal("not renewed with a day left")
	}
	if err := VerifyUserSig(1, "k", "administrator", renewed, now.Add(6*24*time.Hour)); err != nil {
		t.Fatalf("renewed sig: %v", err)
	}
}
