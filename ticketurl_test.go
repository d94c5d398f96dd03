package convdesk_test

import (
	"testing"

	"github.com/convdesk/convdesk"
)

func TestParseTicketURL(t *testing.T) {
	for _, tc := range []struct {
		template string
		ok       bool
	}{
		{"", true},
		{"https://desk.example.com/t/{ticket}", true},
		{"http://desk.example.com/view?id={ticket}", true},
		{"https://desk.example.com/t/", false},
		{"/t/{ticket}", false},
		{"desk.example.com/t/{ticket}", false},
		{"javascript:alert(1)//{ticket}", false},
		{"ftp://desk.example.com/{ticket}", false},
		{"https:///t/{ticket}", false},
	} {
		t.Run(tc.template, func(t *testing.T) {
			_, err := convdesk.ParseTicketURL(tc.template)
			if got := err == nil; got != tc.ok {
				t.Fatalf("ok %v, want %v (%v)", got, tc.ok, err)
			}
		})
	}
}

func TestTicketURLLink(t *testing.T) {
	u, err := convdesk.ParseTicketURL("https://desk.example.com/t/{ticket}")
	if err != nil {
		t.Fatal(err)
	}
	for ticket, want := range map[string]string{
		"TCK-12":    "https://desk.example.com/t/TCK-12",
		"a/b?c<d>#": "https://desk.example.com/t/a%2Fb%3Fc%3Cd%3E%23",
		"":          "",
	} {
		if got := u.Link(ticket); got != want {
			t.Errorf("Link(%q) = %q, want %q", ticket, got, want)
		}
	}
	if got := (convdesk.TicketURL{}).Link("TCK-1"); got != "" {
		t.Errorf("zero TicketURL links %q", got)
	}
}
