#!/usr/bin/python3
"""Parses a message written by the MIME builder with Python's `email` package (an independent
reader) and prints what it understood as JSON, for mime_python_parse_test.cpp to compare.

Usage: parse_message.py MESSAGE_FILE
"""
import email
import email.policy
import json
import sys


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return None
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def main():
    raw = open(sys.argv[1], "rb").read()
    lines = raw.split(b"\r\n")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "maxLine": max(len(line) for line in lines),
        "bareLineBreak": any(b"\n" in line or b"\r" in line for line in lines),
        "endsWithCrlf": raw.endswith(b"\r\n"),
        "headerNames": [k for k in msg.keys()],
        "subject": str(msg["Subject"]) if msg["Subject"] is not None else None,
        "messageId": msg["Message-ID"],
        "date": msg["Date"],
        "from": addresses(msg, "From"),
        "replyTo": addresses(msg, "Reply-To"),
        "to": addresses(msg, "To"),
        "cc": addresses(msg, "Cc"),
        "bcc": msg["Bcc"],
        "extra": {k: str(v) for k, v in msg.items() if k.lower().startswith("x-") or
                  k.lower().startswith("list-")},
        "defects": [type(d).__name__ for part in msg.walk() for d in part.defects],
        "structure": [part.get_content_type() for part in msg.walk()],
        "plain": None,
        "html": None,
        "attachments": [],
    }
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        out["plain"] = plain.get_content().replace("\r\n", "\n")
    html = msg.get_body(preferencelist=("html",))
    if html is not None:
        out["html"] = html.get_content().replace("\r\n", "\n")
    for part in msg.iter_attachments():
        out["attachments"].append({
            "filename": part.get_filename(),
            "contentType": part.get_content_type(),
            "hex": part.get_payload(decode=True).hex(),
        })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
