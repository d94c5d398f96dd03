package tencentim

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UserSig errors returned by VerifyUserSig. They say which check failed; the
// fake maps each to the IM code the real service answers (70003, 70014, 70013,
// 70001, 70009).
var (
	ErrSigMalformed      = errors.New("tencentim: usersig cannot be decoded")
	ErrSigSDKAppID       = errors.New("tencentim: usersig is for another SDKAppID")
	ErrSigIdentifier     = errors.New("tencentim: usersig is for another identifier")
	ErrSigExpired        = errors.New("tencentim: usersig expired")
	ErrSigMismatch       = errors.New("tencentim: usersig signature does not match (wrong secret key)")
	ErrSigUserBufPresent = errors.New("tencentim: usersig carries a userbuf, not expected for REST")
)

// sigEncoding is standard base64 with the three URL-unsafe characters replaced
// as TLSSigAPIv2 does: '+'→'*', '/'→'-', '='→'_'.
var sigEncoding = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-").WithPadding('_')

// SigDoc is the JSON document inside a UserSig (TLSSigAPIv2). Field order
// does not matter to the service.
type SigDoc struct {
	Ver        string `json:"TLS.ver"`
	Identifier string `json:"TLS.identifier"`
	SDKAppID   uint64 `json:"TLS.sdkappid"`
	Expire     int64  `json:"TLS.expire"` // seconds, relative to Time
	Time       int64  `json:"TLS.time"`   // Unix seconds when issued
	Sig        string `json:"TLS.sig"`    // standard base64 of the HMAC-SHA256
	UserBuf    string `json:"TLS.userbuf,omitempty"`
}

// sigHMAC is the documented HMAC-SHA256 over the newline-terminated fields,
// keyed with the secret key's bytes as they are, standard-base64 encoded.
func sigHMAC(key string, sdkappid uint64, identifier string, issued, expire int64) string {
	var b strings.Builder
	b.WriteString("TLS.identifier:" + identifier + "\n")
	b.WriteString("TLS.sdkappid:" + strconv.FormatUint(sdkappid, 10) + "\n")
	b.WriteString("TLS.time:" + strconv.FormatInt(issued, 10) + "\n")
	b.WriteString("TLS.expire:" + strconv.FormatInt(expire, 10) + "\n")
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// GenUserSig makes a TLSSigAPIv2 UserSig for identifier, issued at issued and
// valid for lifetime (whole seconds, at least one).
func GenUserSig(sdkappid uint64, key, identifier string, issued time.Time, lifetime time.Duration) (string, error) {
	expire := int64(lifetime / time.Second)
	switch {
	case sdkappid == 0:
		return "", errors.New("tencentim: usersig: SDKAppID is zero")
	case key == "":
		return "", errors.New("tencentim: usersig: secret key is empty")
	case identifier == "":
		return "", errors.New("tencentim: usersig: identifier is empty")
	case expire < 1:
		return "", errors.New("tencentim: usersig: lifetime under one second")
	}
	doc := SigDoc{
		Ver:        "2.0",
		Identifier: identifier,
		SDKAppID:   sdkappid,
		Expire:     expire,
		Time:       issued.Unix(),
	}
	doc.Sig = sigHMAC(key, sdkappid, identifier, doc.Time, doc.Expire)
	raw, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	w, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(raw); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return sigEncoding.EncodeToString(z.Bytes()), nil
}

// maxSigDoc bounds the inflated document so a hostile sig cannot balloon.
const maxSigDoc = 4096

// DecodeUserSig undoes the base64 variant and zlib and parses the document,
// without checking the signature.
func DecodeUserSig(usersig string) (SigDoc, error) {
	var doc SigDoc
	z, err := sigEncoding.DecodeString(usersig)
	if err != nil {
		return doc, ErrSigMalformed
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return doc, ErrSigMalformed
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxSigDoc+1))
	if err != nil || len(raw) > maxSigDoc {
		return doc, ErrSigMalformed
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return doc, ErrSigMalformed
	}
	return doc, nil
}

// VerifyUserSig checks usersig the way the service does: it must be for
// sdkappid and identifier, not expired at now (expired when now is after
// time + expire) and signed with key.
func VerifyUserSig(sdkappid uint64, key, identifier, usersig string, now time.Time) error {
	doc, err := DecodeUserSig(usersig)
	if err != nil {
		return err
	}
	if doc.SDKAppID != sdkappid {
		return ErrSigSDKAppID
	}
	if doc.Identifier != identifier {
		return ErrSigIdentifier
	}
	if doc.UserBuf != "" {
		return ErrSigUserBufPresent
	}
	if now.Unix() > doc.Time+doc.Expire {
		return ErrSigExpired
	}
	want := sigHMAC(key, doc.SDKAppID, doc.Identifier, doc.Time, doc.Expire)
	if !hmac.Equal([]byte(want), []byte(doc.Sig)) {
		return ErrSigMismatch
	}
	return nil
}

// Default UserSig lifetime and renewal margin. A week bounds how long a sig
// that leaked anyway (it is never logged) stays usable; renewing when under a
// day is left keeps a sig far from expiry even if this machine's clock lags
// the service's by hours, and follows Tencent's advice of validity ≥ 24 h.
const (
	DefaultSigLifetime = 7 * 24 * time.Hour
	DefaultSigRenewal  = 24 * time.Hour
)

// sigCache holds the admin UserSig and makes a new one when less than renew
// of its lifetime is left.
type sigCache struct {
	sdkappid   uint64
	key        string
	identifier string
	lifetime   time.Duration
	renew      time.Duration
	now        func() time.Time

	mu      sync.Mutex
	sig     string
	expires time.Time
}

func (c *sigCache) get() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.sig != "" && c.expires.Sub(now) > c.renew {
		return c.sig, nil
	}
	sig, err := GenUserSig(c.sdkappid, c.key, c.identifier, now, c.lifetime)
	if err != nil {
		return "", fmt.Errorf("tencentim: making the admin usersig: %w", err)
	}
	c.sig = sig
	c.expires = time.Unix(now.Unix(), 0).Add(c.lifetime)
	return sig, nil
}
