package password

import (
	"strings"
	"testing"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndCheck(t *testing.T) {
	h, err := Hash("correct horse", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", h)
	}
	h2, _ := Hash("correct horse", fast)
	if h == h2 {
		t.Fatal("two hashes of one password share a salt")
	}
	t.Run("OK", func(t *testing.T) {
		if ok, err := Check("correct horse", h); !ok || err != nil {
			t.Fatalf("got %v, %v", ok, err)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		if ok, err := Check("correct horsE", h); ok || err != nil {
			t.Fatalf("got %v, %v", ok, err)
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
			if ok, err := Check("x", bad); ok || err != ErrMalformed {
				t.Fatalf("%q: got %v, %v", bad, ok, err)
			}
		}
	})
}
