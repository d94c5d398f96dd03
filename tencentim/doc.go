// Package tencentim is a client for the Tencent Cloud IM ("Chat") server REST
// API, limited to the calls a support console needs: account_check,
// portrait_get, get_group_info, group_msg_get_simple, the recentcontact
// conversation-group calls and get_list, get_c2c_unread_msg_num and
// admin_getroammsg. It speaks Tencent's types and knows nothing of convdesk's
// domain; an adapter maps between the two.
//
// # Protocol
//
// Every call is POST {base}/v4/{service}/{command}?sdkappid=&identifier=
// &usersig=&random=&contenttype=json with a JSON body (never empty). The
// admin UserSig (TLSSigAPIv2) is made here, cached, and renewed when less
// than a day of its week-long life is left (SigLifetime, SigRenewal);
// random is a fresh 32-bit value from crypto/rand per request.
//
// # Failures
//
// Every failure is an *Error whose Kind tells what happened and whose
// Outcome tells what it means for state:
//
//   - NotApplied: an answer with ActionStatus FAIL or a non-zero ErrorCode
//     (KindRefused, Code and Info set), a request that never left this
//     machine (KindNotSent), or arguments refused before sending
//     (KindInvalid).
//   - OutcomeUnknown: the request was sent but no usable answer came back —
//     KindTimeout, KindConnection (reset, EOF), KindHTTPStatus (e.g. 502),
//     KindBadAnswer. A write may or may not have been applied; re-read.
//
// Writes (create/update/del_contact_group) are sent exactly once: never
// re-sent after any failure. Reads answered 60007 are retried after 250 ms,
// 500 ms and 1 s, at most three times and not once 2 s have passed; no other
// failure is retried. Per-item results (ResultCode, per-group ErrorCode,
// ErrorList) are returned in the typed answers, not as errors.
//
// # Hosts
//
// With a Region the client calls Tencent's primary host and falls back to
// the documented backup host only when no byte of the request was sent: the
// request never got a connection (httptrace GotConn did not fire) and the
// error is a dial error (DNS, refused, connect timeout). The connect timeout
// is half the call timeout so the backup still has time. An explicit
// Endpoint (scheme://host[:port], http allowed for local fakes) never falls
// back. Redirects are not followed: one would carry the UserSig elsewhere.
//
// # Rate
//
// A sliding-window log per command keeps calls of one command under
// limit × RateShare in every one-second window (limit 200, 100 for
// account_check; share 0.5 by default because the limit is the whole app's).
// Callers block, respecting their context. RateBudget reports what is left.
//
// # Secrets
//
// The secret key and the UserSig never appear in logs or errors: transport
// errors (*url.Error) lose their URL query before they are logged or
// wrapped, and Config prints without the key.
//
// # Assumptions where Tencent's docs are unconfirmed
//
//   - get_contact_group: CompleteFlag 1 is taken to mean "last page" (as in
//     get_list). The walk also ends when NextStartIndex is 0 (the documented
//     final page shows 0, and starting over from 0 would loop), and fails if
//     NextStartIndex does not advance. GroupItem is unioned over all pages by
//     GroupId, so it works whether each page lists every group or only the
//     first page does; a group listed on no page cannot be seen.
//   - get_list: AssistFlags is always 63 (the 2026 docs' "complete data"
//     value); paging echoes the four cursors until CompleteFlag is 1 and
//     fails if an incomplete page leaves the cursor unchanged.
//   - update_contact_group: the answer's shape follows the doocs Java models
//     (Tencent's page has no sample); UpdateType is always 1.
//   - The 200/s limit is taken to be per command per app.
//   - admin_getroammsg uses the current keys Operator_Account/Peer_Account.
//   - recentcontact/delete and mark_contact are not implemented: convdesk
//     neither deletes conversations nor edits marks.
package tencentim
