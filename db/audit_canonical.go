package db

import (
	"strconv"

	"github.com/convdesk/convdesk/jsontext"
)

// canonicalFromRow appends to buf the canonical encoding of the event stored
// in r, the bytes convdesk.AuditEvent.CanonicalBytes hashes. It writes the
// JSON columns through as stored (appendEvent stored them with the same
// encoder the canonical form uses) instead of decoding and re-encoding them,
// which makes verifying a long trail several times faster. A test holds it
// equal to CanonicalBytes for every kind of event; a column changed behind
// the triggers' back changes these bytes and so the hash.
func canonicalFromRow(buf []byte, r *eventRow) []byte {
	buf = append(buf, `{"v":1,"id":`...)
	buf = strconv.AppendInt(buf, r.ID, 10)
	buf = append(buf, `,"t":`...)
	buf = strconv.AppendInt(buf, r.At, 10)
	buf = append(buf, `,"actor_id":`...)
	buf = strconv.AppendInt(buf, r.ActorID, 10)
	buf = appendField(buf, "actor", r.ActorName)
	buf = appendField(buf, "role", r.ActorRole)
	buf = appendField(buf, "ip", r.ClientIP)
	buf = appendField(buf, "ua", r.UserAgent)
	buf = appendField(buf, "req", r.RequestID)
	buf = appendField(buf, "creq", r.ClientRequestID)
	buf = appendField(buf, "action", r.Action)
	buf = appendField(buf, "subject", r.SubjectUser)
	buf = append(buf, `,"groups":`...)
	buf = append(buf, r.GroupNames...)
	buf = append(buf, `,"convs":`...)
	buf = append(buf, r.ConversationIDs...)
	buf = appendField(buf, "ticket", r.Ticket)
	buf = append(buf, `,"before":`...)
	buf = append(buf, r.BeforeState...)
	buf = append(buf, `,"after":`...)
	buf = append(buf, r.AfterState...)
	buf = appendField(buf, "outcome", r.Outcome)
	buf = append(buf, `,"code":`...)
	buf = strconv.AppendInt(buf, int64(r.ResultCode), 10)
	buf = append(buf, `,"results":`...)
	buf = append(buf, r.Results...)
	buf = appendField(buf, "msg", r.Message)
	buf = append(buf, `,"detail":`...)
	buf = append(buf, r.Detail...)
	buf = append(buf, `,"dur":`...)
	buf = strconv.AppendInt(buf, r.DurationUS, 10)
	buf = appendField(buf, "prev", r.PrevHash)
	return append(buf, '}')
}

func appendField(buf []byte, key, value string) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, '"', ':')
	return jsontext.AppendString(buf, value)
}
