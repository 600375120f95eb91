#!/usr/bin/python3
"""Verifies a message's DKIM signature with python3-dkim (an independent implementation),
answering the key query with the TXT record given, as DNS would.

Usage: verify_dkim.py MESSAGE_FILE RECORD_FILE
RECORD_FILE holds one line as `sendcloudd domain dns` prints it:
    NAME TXT "v=DKIM1; k=rsa; p=..." "..."
Exit status 0 when the signature verifies, 1 when it does not; the headers it signed on stdout.
"""
import re
import sys

import dkim


def main():
    message = open(sys.argv[1], "rb").read()
    line = open(sys.argv[2]).read().strip()
    name, kind, rest = line.split(None, 2)
    assert kind == "TXT", line
    txt = "".join(re.findall(r'"([^"]*)"', rest)).encode()
    wanted = name.rstrip(".") + "."

    def dnsfunc(qname, timeout=5):
        q = qname.decode() if isinstance(qname, bytes) else qname
        return txt if q.rstrip(".") + "." == wanted else None

    d = dkim.DKIM(message)
    try:
        ok = d.verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print("invalid:", e)
        sys.exit(1)
    fields = d.signature_fields or {}
    print("h=" + "".join(fields.get(b"h", b"").decode().split()).lower())
    print("a=" + fields.get(b"a", b"").decode())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
