#!/usr/bin/python3
"""A scriptable SMTP server for the delivery tests (python3-aiosmtpd; run with /usr/bin/python3).

It listens on HOST:PORT (port 0: a free one), prints "READY <port>" on stdout once it accepts
connections, and writes every message it accepts to --capture-dir as <n>.json:
{"mail_from", "rcpt_tos", "mail_options", "data_b64", "tls", "peer"}. Replies are scripted:

  --greeting "421 4.7.0 busy"     answer every connection with this and close
  --rcpt-reply "550 5.1.1 no"     answer every RCPT with this
  --data-reply "451 4.3.0 later"  answer the end of DATA with these, one per message, in order
                                  (repeat the flag); then 250
  --tls-cert/--tls-key FILE       offer STARTTLS with this certificate
  --auth USER:PASSWORD_FILE       offer AUTH PLAIN/LOGIN and require it
  --count-file FILE               write the number of connections seen so far (for tests that
                                  must prove nothing connected)
It stops on SIGTERM or when stdin closes.
"""
import argparse
import asyncio
import base64
import json
import os
import signal
import ssl
import sys
import logging
import warnings

from aiosmtpd.smtp import SMTP, AuthResult


class Peer:
    def __init__(self, args):
        self.args = args
        self.data_replies = list(args.data_reply or [])
        self.count = 0
        self.connections = 0
        if args.capture_dir:
            os.makedirs(args.capture_dir, exist_ok=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.rcpt_reply:
            return self.args.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "data_b64": base64.b64encode(envelope.original_content or b"").decode(),
            "tls": bool(session.ssl),
            "peer": list(session.peer)[:2] if session.peer else None,
        }
        if self.args.capture_dir:
            tmp = os.path.join(self.args.capture_dir, ".%d.tmp" % self.count)
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(self.args.capture_dir, "%d.json" % self.count))
        return "250 2.0.0 Ok: queued as %d" % self.count


class ScriptedSMTP(SMTP):
    def __init__(self, peer, *a, **kw):
        self.peer = peer
        super().__init__(*a, **kw)

    async def _handle_client(self):
        self.peer.connections += 1
        if self.peer.args.count_file:
            with open(self.peer.args.count_file, "w") as f:
                f.write(str(self.peer.connections))
        if self.peer.args.greeting:
            await self.push(self.peer.args.greeting)
            self.transport.close()
            return
        await super()._handle_client()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--capture-dir")
    p.add_argument("--greeting")
    p.add_argument("--rcpt-reply")
    p.add_argument("--data-reply", action="append")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth")
    p.add_argument("--count-file")
    args = p.parse_args()
    # aiosmtpd logs every refused handshake with a traceback; the tests assert outcomes instead.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")

    peer = Peer(args)
    kwargs = {"hostname": "peer.test", "enable_SMTPUTF8": True, "decode_data": False}
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = ctx
    if args.auth:
        user, pw_file = args.auth.split(":", 1)
        with open(pw_file) as f:
            password = f.read().strip()

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: ScriptedSMTP(peer, peer, **kwargs), args.host, args.port))
    port = server.sockets[0].getsockname()[1]
    print("READY %d" % port, flush=True)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_reader(sys.stdin.fileno(), lambda: loop.stop() if not sys.stdin.read(1) else None)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
