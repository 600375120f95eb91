"""An SMTP peer for the email delivery tests, run with Debian's /usr/bin/python3 (aiosmtpd).

Listens on --host (127.0.0.1; another loopback address for MX tests) and --port (0: free) and writes one JSON line per event on stdout:
  {"event": "listening", "port": P}
  {"event": "connect"}                      a client connected
  {"event": "message", "mail_from", "rcpt_tos", "data_hex", "tls", "reply"}
                                            the end of DATA and what it was answered
Modes:
  --data-replies "451 4.3.0 Busy|250"       replies to the end of DATA, in order, the last kept
                                            ("250" answers with aiosmtpd's own 250 OK)
  --greeting-421                            every connection gets "421" at once, then closed
  --tls-cert F --tls-key K                  offer STARTTLS with that certificate
  --auth USER:PASSWORD                      require AUTH PLAIN/LOGIN (also without TLS)
"""

import argparse
import asyncio
import json
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Handler:
    def __init__(self, replies):
        self.replies = list(replies) or ["250"]

    async def handle_DATA(self, server, session, envelope):
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        emit({"event": "message", "mail_from": envelope.mail_from,
              "rcpt_tos": list(envelope.rcpt_tos),
              "data_hex": (envelope.original_content or b"").hex(),
              "tls": session.ssl is not None, "reply": reply,
              "auth": session.auth_data.decode() if isinstance(session.auth_data, bytes)
              else session.auth_data})
        return "250 2.0.0 OK queued" if reply == "250" else reply


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        # Only the first (plain) connection counts; STARTTLS calls this again on the same one.
        if not getattr(self, "_counted", False):
            self._counted = True
            emit({"event": "connect"})
        super().connection_made(transport)


async def greeting_421(reader, writer):
    emit({"event": "connect"})
    writer.write(b"421 4.7.0 Too many connections, try later\r\n")
    await writer.drain()
    writer.close()


async def main():
    # aiosmtpd warns (on stderr, merged into the events by the tests) about AUTH without TLS,
    # which the relay test wants, and about its own deprecated attributes.
    warnings.simplefilter("ignore")
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--data-replies", default="250")
    p.add_argument("--greeting-421", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth")
    a = p.parse_args()
    loop = asyncio.get_running_loop()
    if a.greeting_421:
        server = await asyncio.start_server(greeting_421, a.host, a.port)
    else:
        tls = None
        if a.tls_cert:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(a.tls_cert, a.tls_key)
        handler = Handler(a.data_replies.split("|"))
        auth = {}
        if a.auth:
            user, password = a.auth.encode().split(b":", 1)

            def check(server, session, envelope, mechanism, data):
                ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                    user, password)
                return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)
            auth = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
        server = await loop.create_server(
            lambda: CountingSMTP(handler, hostname="mx.acme.test", tls_context=tls,
                                 decode_data=False, enable_SMTPUTF8=True,
                                 data_size_limit=50 * 1024 * 1024, **auth),
            a.host, a.port)
    emit({"event": "listening", "port": server.sockets[0].getsockname()[1]})
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
