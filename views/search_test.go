package views

import (
	"strings"
	"testing"
)

// TestSearchTrigger: where nicknames can be searched the box searches as one
// types; where the backend finds users by exact ID only (Tencent REST), it
// searches on Enter only and says why.
func TestSearchTrigger(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nicknames bool
		trigger   string
		label     string
	}{
		{"Nicknames", true, "input changed delay:300ms, search", "User ID or nickname"},
		{"ExactIDOnEnter", false, "search", "Exact user ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := render(t, SearchPage(SearchPageVM{Layout: testLayout(), Form: SearchFormVM{URL: "/users", NicknameSearch: tc.nicknames}}))
			input := doc.Find(testID("search-input"))
			if got := input.AttrOr("hx-trigger", ""); got != tc.trigger {
				t.Errorf("hx-trigger = %q, want %q", got, tc.trigger)
			}
			if got := strings.TrimSpace(doc.Find(`label[for="search-q"]`).Text()); got != tc.label {
				t.Errorf("label = %q, want %q", got, tc.label)
			}
			if !tc.nicknames {
				hint := doc.Find(testID("search-hint-exact")).Text()
				for _, want := range []string{"no nickname search", "exact user ID", "press Enter"} {
					if !strings.Contains(hint, want) {
						t.Errorf("hint %q does not say %q", hint, want)
					}
				}
			}
		})
	}
}
