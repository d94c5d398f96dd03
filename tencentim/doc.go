// Package tencentim is a client for the Tencent Cloud IM ("Chat") server REST
// API, limited to the calls a support console needs: account_check,
// portrait_get, get_group_info, group_msg_get_simple, the recentcontact
// conversation-group calls and get_list, get_c2c_unread_msg_num and
// admin_getroammsg. The Client speaks Tencent's types only; Backend
// (backend*.go) is the adapter that puts it behind convdesk's group-service
// port (convdesk.GroupBackend).
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
//
// # Backend
//
// NewBackend(client, BackendOptions{…}) is convdesk.GroupBackend over this
// client; Ready is the /readyz credentials check (account_check of the
// admin identifier, at most once per ReadyInterval, one at a time).
//
// Reads. A board is every page of get_contact_group (groups, members,
// marks) and of get_list (the conversations), read side by side and cached
// per user for CacheTTL (2 s); concurrent readers share one read. Show
// names are looked up only for the cards a listing returns — portrait_get
// in batches of 100 peers, get_group_info in batches of 50 group chats with
// a ResponseFilter — and each batch that must be made is filled with the
// next cards of every column ("in no group" first, PrefetchPerColumn each),
// so a board's first paint costs one of each; names are kept for 5 minutes.
// A deleted peer (40003), a disbanded group chat (10010) or a failed lookup
// shows the raw ID and never fails a page. FaceURL is always empty: staff
// browsers must never load end users' avatar URLs. GetUser and SearchUsers
// take an exact user ID only (account_check; NotImported is "no such
// user"); REST has no nickname or prefix search. LastMessage reads
// admin_getroammsg (C2C, MaxCnt 1) or group_msg_get_simple (ReqMsgNumber
// 1) on demand only; any failure there (60009 included) is EUnavailable
// "not available". Unread counts are not read (Capabilities says so).
//
// Identity and order. A group's convdesk.GroupID is Tencent's GroupId plus
// a tag of the user ID ("7_1a2b3c4d"), because GroupIds may be numbered
// per user (undocumented): another user's group must read as missing, not
// as this user's group 7. Requests address groups by the name the latest
// Snapshot gave them. Conversations are "c2c_<id>"/"group_<id>", ordered by
// order key (MsgTime, plus 2^40 when pinned, as the SDK puts pinned ones
// first) descending, then ID. Listing cursors are base64url("1:<key>:<id>")
// of the last card; anything else is convdesk.InvalidCursor.
//
// State token. A hash of the user's groups' GroupIds and names and each
// group's member conversation IDs; marks, Timestamps and the list's order
// do not move it. Snapshot always reads get_contact_group afresh (it is
// what an edit decides on); which conversations are in the user's list it
// takes from a list read no older than ListMaxAge (30 s) that holds every
// conversation asked about, else it reads get_list again. So a
// conversation the user deleted from their list within ListMaxAge may still
// count as listed; the IM service stores group data apart from the list and
// accepts it.
//
// Writes. Each is one call (create_contact_group, update_contact_group
// type 1 or 2, del_contact_group), sent once and never retried. A FAIL or
// error code, an unsent request or arguments the client refused are a
// definite failure: a *convdesk.Error with the IM code, "Nothing was
// changed", Kind/Reason by code (51009 group not found, 50001 user not
// found, 51008/51010/51011/50002 invalid, others EUnavailable with
// ReasonBackend). A lost answer (timeout, reset, HTTP 5xx, unreadable body)
// wraps convdesk.ErrOutcomeUnknown; the service then re-reads through
// Snapshot. After an answer the backend does not read again: it applies
// the answer's per-item results to the groups the service's Snapshot just
// read, returns that state as WriteResult.State, and remembers the write
// (Write.Change) with that state; LastChange reports it for as long as the
// current state is still that token, nil otherwise (the service then says
// "changed outside convdesk"). A write whose answer was lost is attributed
// once a later read shows the state moved. This memory is per instance: a
// change made by another convdesk instance reads as made outside.
//
// The window. The group service holds a per-user lock (GroupService's
// userLocks) from its Snapshot through the write and the outcome record,
// so two edits of one user never interleave within an instance. Between
// the Snapshot's get_contact_group read and the write call (one round
// trip, or two for a move's add and remove) the user's own app, another
// convdesk instance or another admin tool can still change the groups;
// Tencent has no conditional write, so that change is not detected, and
// since requests name groups, a group renamed away in that window makes
// the write fail with 51009, and one renamed and replaced by a new group of
// the old name would receive the write. The next Snapshot sees the result.
//
// Assumptions (UNCONFIRMED in Tencent's docs), besides the client's above:
//   - StandardMark is a bit string whose n-th character from the right is
//     SDK markType 1<<n (star 0, unread 1, fold 2, hide 3).
//   - GroupItem lists groups in creation order (the board shows them so).
//   - Membership comes from get_contact_group's ContactGroupId; a group
//     ID that no GroupItem names is ignored. Group counts and the board's
//     grouped count cover listed conversations; Snapshot.Grouped (the 1000
//     cap) counts every conversation with group data.
//   - A conversation that a create or update answer does not mention in
//     its per-item results was done.
//   - get_contact_group answers 50001 for a user that is not imported (the
//     board has no account_check of its own).
package tencentim
