package views

import (
	"context"
	"fmt"
)

// T returns the user-visible text for key in the language of ctx, formatted
// with args (fmt verbs) when given. It is the one hook for translation: every
// string a person reads goes through it. For now it knows English only; an
// unknown key comes back as itself so a missing entry is visible, not blank.
func T(ctx context.Context, key string, args ...any) string {
	s, ok := english[key]
	if !ok {
		s = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// english holds the English text of every key.
var english = map[string]string{
	"app.name":             "convdesk",
	"layout.skip":          "Skip to content",
	"layout.nav":           "Main",
	"layout.demo":          "Demo data",
	"layout.demo.title":    "This console runs on generated demo data, not on a real IM app.",
	"layout.signed_in_as":  "Signed in as %s",
	"layout.not_signed_in": "Not signed in",
	"layout.notifications": "Notifications",
	"toast.dismiss":        "Dismiss",
	"toast.offline":        "The server could not be reached. Check your connection and try again.",
	"toast.failed":         "The request failed. Nothing was changed.",

	"role.viewer":  "Viewer",
	"role.agent":   "Agent",
	"role.auditor": "Auditor",
	"role.admin":   "Admin",

	"nav.console": "Console",

	"console.title":        "Console",
	"console.lead":         "convdesk lets support staff see and repair end users' conversation groups in a Tencent Cloud IM app, and keeps a tamper-evident record of every look and every change.",
	"console.demo":         "Demo mode: the users, conversations and staff accounts here are generated. Nothing you do reaches a real IM app.",
	"console.sections":     "What you can do here",
	"console.open":         "Open",
	"console.search.title": "Find an end user",
	"console.search.desc":  "Look a user up by user ID or nickname while you handle a ticket, and open their board.",
	"console.board.title":  "Repair conversation groups",
	"console.board.desc":   "See a user's groups exactly as their app shows them; create, rename and delete groups; move or add conversations by drag and drop or keyboard.",
	"console.audit.title":  "Audit trail",
	"console.audit.desc":   "Review who looked at or changed which user's data, when, why and with what result, and verify that the trail was not edited.",
	"console.staff.title":  "Staff accounts",
	"console.staff.desc":   "Admins create staff accounts, assign roles (viewer, agent, auditor, admin) and disable or reset accounts.",

	"error.title":        "Error %d",
	"error.request_id":   "Request ID",
	"error.request_hint": "Quote this ID when you report the problem.",
	"error.home":         "Back to the console",
	"error.400":          "The request could not be understood.",
	"error.401":          "Please sign in to continue.",
	"error.403":          "Your role does not allow this.",
	"error.404":          "There is no page at this address.",
	"error.405":          "This address does not accept that kind of request.",
	"error.408":          "The request took too long to arrive.",
	"error.413":          "The request is too large.",
	"error.415":          "The request's content type is not supported.",
	"error.429":          "Too many requests. Wait a moment and try again.",
	"error.503":          "The service is busy or a backend did not answer in time. Nothing was changed; try again.",
	"error.4xx":          "The request was refused.",
	"error.5xx":          "Something went wrong on our side. Nothing was changed.",
}
