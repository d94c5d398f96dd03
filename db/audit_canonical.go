package db

import (
	"strconv"
	"unicode/utf8"
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
	return appendJSONString(buf, value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json writes a string: HTML-safe
// escapes for <, > and &, \u2028 and \u2029 escaped, invalid UTF-8 replaced
// by U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
