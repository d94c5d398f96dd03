#!/usr/bin/env python3
"""Independent TLSSigAPIv2 signer (Python 3 standard library only).

Written from the protocol description in ../shared/tencent-im.md §2, not from
the Go code in this package, so the Go implementation can be checked against
something it did not produce. Run once; its output is committed as
usersig_vectors.json:

    python3 tencentim/testdata/usersig_vectors.py > tencentim/testdata/usersig_vectors.json
"""
import base64
import hashlib
import hmac
import json
import zlib


def gen(sdkappid, key, identifier, curr_time, expire):
    content = (
        "TLS.identifier:" + identifier + "\n"
        + "TLS.sdkappid:" + str(sdkappid) + "\n"
        + "TLS.time:" + str(curr_time) + "\n"
        + "TLS.expire:" + str(expire) + "\n"
    )
    digest = hmac.new(key.encode("utf-8"), content.encode("utf-8"), hashlib.sha256).digest()
    doc = {
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": curr_time,
        "TLS.sig": base64.b64encode(digest).decode("ascii"),
    }
    packed = zlib.compress(json.dumps(doc, separators=(",", ":")).encode("utf-8"))
    out = base64.b64encode(packed).decode("ascii")
    return out.replace("+", "*").replace("/", "-").replace("=", "_"), doc["TLS.sig"]


CASES = [
    (1400000000, "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e", "administrator", 1700000000, 604800),
    (1400000000, "timfake-demo-secret-key-not-for-production", "administrator", 1767225600, 86400),
    (1600012345, "k", "admin_用户", 1234567890, 15552000),
    (20000000, "secret with spaces/+=", "a", 1, 1),
]

vectors = []
for sdkappid, key, identifier, t, expire in CASES:
    sig, hm = gen(sdkappid, key, identifier, t, expire)
    vectors.append({
        "sdkappid": sdkappid,
        "key": key,
        "identifier": identifier,
        "time": t,
        "expire": expire,
        "hmac": hm,
        "usersig": sig,
    })
print(json.dumps({"generator": "tencentim/testdata/usersig_vectors.py (Python 3 stdlib)", "vectors": vectors}, indent=2, ensure_ascii=False))
