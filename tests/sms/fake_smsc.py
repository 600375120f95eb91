#!/usr/bin/python3
"""A small SMPP 3.4 SMSC for the SMS delivery tests (docs/delivery.md).

Listens on 127.0.0.1 (port 0: any free one), prints one JSON line per event on stdout
(the first is {"event": "listening", "port": N}) and takes JSON commands on stdin:
  {"cmd": "receipt", "id": "1F", "stat": "DELIVRD", "tlv": true}   a delivery receipt
  {"cmd": "mo", "from": "447700900123", "to": "14155550100", "text": "STOP"}
  {"cmd": "drop"}                                                    close every session
Options: --throttle N (the first N submit_sm get ESME_RTHROTTLED 0x58), --status X (every
submit_sm gets X), --ids hex|dec, --answer N (answer only the first N submit_sm, then stay
silent), --password P (bind refused with 0x0E otherwise), --delay-ms N (each submit_sm_resp
sent N ms after its submit_sm), --split-responses (each submit_sm_resp written in three pieces
10 ms apart, cut inside its header and inside its body), --coalesce N (submit_sm_resp held back
until N are waiting, then written in one write).
"""
import argparse
import asyncio
import json
import struct
import sys

BIND_TRX, BIND_TRX_RESP = 0x09, 0x80000009
SUBMIT, SUBMIT_RESP = 0x04, 0x80000004
DELIVER, DELIVER_RESP = 0x05, 0x80000005
UNBIND, UNBIND_RESP = 0x06, 0x80000006
ENQUIRE, ENQUIRE_RESP = 0x15, 0x80000015


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def pdu(command, status, seq, body=b""):
    return struct.pack(">IIII", 16 + len(body), command, status, seq) + body


def cstr(data, at):
    end = data.index(b"\0", at)
    return data[at:end].decode("latin-1"), end + 1


class Smsc:
    def __init__(self, args):
        self.args = args
        self.sessions = set()
        self.submits = 0
        self.next_id = 0xFFF0
        self.seq = 1
        self.held = []  # --coalesce: submit_sm_resp not written yet
        self.split_at = 0.0  # --split-responses: when the last piece is written

    def message_id(self):
        self.next_id += 1
        return format(self.next_id, "X") if self.args.ids == "hex" else str(self.next_id)

    async def session(self, reader, writer):
        self.sessions.add(writer)
        try:
            while True:
                head = await reader.readexactly(16)
                length, command, status, seq = struct.unpack(">IIII", head)
                body = await reader.readexactly(length - 16)
                if command == BIND_TRX:
                    system_id, at = cstr(body, 0)
                    password, at = cstr(body, at)
                    ok = self.args.password is None or password == self.args.password
                    emit(event="bind", system_id=system_id, ok=ok)
                    writer.write(pdu(BIND_TRX_RESP, 0 if ok else 0x0E, seq, b"fakesmsc\0"))
                elif command == SUBMIT:
                    self.on_submit(body, seq, writer)
                elif command == ENQUIRE:
                    emit(event="enquire_link")
                    writer.write(pdu(ENQUIRE_RESP, 0, seq))
                elif command == UNBIND:
                    emit(event="unbind")
                    writer.write(pdu(UNBIND_RESP, 0, seq))
                    await writer.drain()
                    break
                elif command == DELIVER_RESP:
                    emit(event="deliver_sm_resp", status=status, seq=seq)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.sessions.discard(writer)
            writer.close()
            emit(event="closed")

    def on_submit(self, body, seq, writer):
        at = 0
        _service, at = cstr(body, at)
        src_ton, src_npi = body[at], body[at + 1]
        src, at = cstr(body, at + 2)
        dst_ton, dst_npi = body[at], body[at + 1]
        dst, at = cstr(body, at + 2)
        esm = body[at]
        at += 3
        _sched, at = cstr(body, at)
        _valid, at = cstr(body, at)
        registered, _replace, coding, _default, length = body[at:at + 5]
        sm = body[at + 5:at + 5 + length]
        self.submits += 1
        n = self.submits
        if self.args.answer is not None and n > self.args.answer:
            emit(event="submit", unanswered=True, dest=dst, dest_ton=dst_ton, esm=esm,
                 coding=coding, sm=sm.hex(), registered=registered)
            return
        if n <= self.args.throttle:
            status, mid = 0x58, ""
        elif self.args.status:
            status, mid = self.args.status, ""
        else:
            status, mid = 0, self.message_id()
        emit(event="submit", source=src, source_ton=src_ton, dest=dst, dest_ton=dst_ton,
             dest_npi=dst_npi, esm=esm, coding=coding, sm=sm.hex(), registered=registered,
             status=status, id=mid)
        resp = pdu(SUBMIT_RESP, status, seq, (mid + "\0").encode() if status == 0 else b"")
        if self.args.split_responses:
            # The client must put a PDU together from reads that each bring a piece of it.
            # Pieces go out 10 ms apart, in order, those of the next response after them.
            loop = asyncio.get_running_loop()
            for piece in (resp[:5], resp[5:19], resp[19:]):
                self.split_at = max(self.split_at, loop.time()) + 0.01
                loop.call_at(self.split_at, writer.write, piece)
        elif self.args.coalesce:
            # ... and take several PDUs from one read.
            self.held.append(resp)
            if len(self.held) >= self.args.coalesce:
                writer.write(b"".join(self.held))
                self.held = []
        elif self.args.delay_ms:
            asyncio.get_running_loop().call_later(self.args.delay_ms / 1000, writer.write, resp)
        else:
            writer.write(resp)

    def deliver(self, esm, source, dest, short_message, tlvs=b""):
        self.seq += 1
        body = (b"\0" + bytes([1, 1]) + source.encode() + b"\0" + bytes([1, 1]) + dest.encode()
                + b"\0" + bytes([esm, 0, 0]) + b"\0\0" + bytes([0, 0, 0, 0, len(short_message)])
                + short_message + tlvs)
        for w in list(self.sessions):
            w.write(pdu(DELIVER, 0, self.seq, body))

    async def commands(self):
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            c = json.loads(line)
            if c["cmd"] == "receipt":
                text = ("id:%s sub:001 dlvrd:001 submit date:2612050210 done date:2612050211 "
                        "stat:%s err:000 text:hello" % (c["id"], c["stat"])).encode()
                tlvs = b""
                if c.get("tlv"):
                    rid = c.get("tlv_id", c["id"]).encode() + b"\0"
                    states = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5,
                              "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8}
                    tlvs = (struct.pack(">HH", 0x001E, len(rid)) + rid
                            + struct.pack(">HHB", 0x0427, 1, states[c["stat"]]))
                self.deliver(0x04, c.get("from", "14155550100"), c.get("to", "acme"), text, tlvs)
            elif c["cmd"] == "mo":
                self.deliver(0x00, c["from"], c["to"], c["text"].encode("latin-1"))
            elif c["cmd"] == "drop":
                for w in list(self.sessions):
                    w.transport.abort()
            emit(event="done", cmd=c["cmd"])


def parser():
    """The options above; tests/integration/peers/smsc.py adds its own to them."""
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--status", type=lambda s: int(s, 0), default=0)
    p.add_argument("--ids", choices=["hex", "dec"], default="hex")
    p.add_argument("--answer", type=int, default=None)
    p.add_argument("--password", default=None)
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--split-responses", action="store_true")
    p.add_argument("--coalesce", type=int, default=0)
    return p


async def main():
    smsc = Smsc(parser().parse_args())
    server = await asyncio.start_server(smsc.session, "127.0.0.1", smsc.args.port)
    emit(event="listening", port=server.sockets[0].getsockname()[1])
    await smsc.commands()


if __name__ == "__main__":
    asyncio.run(main())
