package locale

import (
	"context"
	"testing"
)

// Every message exists in every language, in the same area file.
func TestCatalogsComplete(t *testing.T) {
	en, err := messageIDs("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages[1:] {
		other, err := messageIDs(lang)
		if err != nil {
			t.Fatal(err)
		}
		for id := range en {
			if !other[id] {
				t.Errorf("%s lacks %s", lang, id)
			}
		}
		for id := range other {
			if !en[id] {
				t.Errorf("%s has %s, which English lacks", lang, id)
			}
		}
	}
}

func TestPick(t *testing.T) {
	cases := []struct{ saved, accept, want string }{
		{"", "zh-CN,zh;q=0.9,en;q=0.8", "zh"},
		{"", "en-GB,en;q=0.9", "en"},
		{"", "fr-FR", "en"},
		{"", "", "en"},
		{"zh", "en-US", "zh"},
		{"xx", "zh-TW", "zh"},
	}
	for _, c := range cases {
		if got := Pick(c.saved, c.accept).Lang; got != c.want {
			t.Errorf("Pick(%q, %q) = %s, want %s", c.saved, c.accept, got, c.want)
		}
	}
}

func TestT(t *testing.T) {
	zh := Pick("zh", "")
	if got := zh.T("lang.en"); got != "English" {
		t.Fatalf("got %q", got)
	}
	if got := English().T("no.such.message"); got != "no.such.message" {
		t.Fatalf("missing message: got %q", got)
	}
	if From(With(context.Background(), zh)) != zh || From(context.Background()) != English() {
		t.Fatal("context round trip")
	}
}
