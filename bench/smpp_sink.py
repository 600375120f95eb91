#!/usr/bin/python3
"""The SMSC of bench/sms.sh: answers every bind (transceiver, transmitter, receiver), every
submit_sm (status 0 and a message id), enquire_link and unbind, and counts the submit_sm.

  smpp_sink.py serve PORT COUNT_FILE     listen on 127.0.0.1:PORT (0: any; the port is printed),
                                         rewrite COUNT_FILE with the count every 50 ms
  smpp_sink.py blast PORT N SESSIONS WINDOW
                                         the sink's ceiling: N submit_sm over SESSIONS binds, each
                                         keeping WINDOW unanswered; prints "rate R" (submit_sm/s)

Why not Debian's drive_smpp: it answers no bind_transceiver, gives no message ids and panics
without a bearerbox on port 13001 (docs/architecture.md). No receipts are sent: the benchmark
measures submission. asyncio Protocols (no streams) keep it well above the rates it measures.
"""
import asyncio
import os
import struct
import sys
import time

SUBMIT, SUBMIT_RESP = 0x04, 0x80000004
BIND_RESP = {0x01: 0x80000001, 0x02: 0x80000002, 0x09: 0x80000009}
UNBIND, UNBIND_RESP = 0x06, 0x80000006
ENQUIRE, ENQUIRE_RESP = 0x15, 0x80000015
GENERIC_NACK = 0x80000000
HEAD = struct.Struct(">IIII")
MAX_PDU = 64 * 1024


class Sink(asyncio.Protocol):
    count = 0
    next_id = 0

    def connection_made(self, transport):
        self.transport = transport
        self.buf = bytearray()

    def data_received(self, data):
        self.buf += data
        out = []
        at = 0
        buf = self.buf
        while len(buf) - at >= 16:
            length, command, _status, seq = HEAD.unpack_from(buf, at)
            if length < 16 or length > MAX_PDU:
                self.transport.close()
                return
            if len(buf) - at < length:
                break
            at += length
            if command == SUBMIT:
                Sink.count += 1
                Sink.next_id += 1
                mid = b"%X\0" % Sink.next_id
                out.append(HEAD.pack(16 + len(mid), SUBMIT_RESP, 0, seq) + mid)
            elif command in BIND_RESP:
                out.append(HEAD.pack(16 + 5, BIND_RESP[command], 0, seq) + b"sink\0")
            elif command == ENQUIRE:
                out.append(HEAD.pack(16, ENQUIRE_RESP, 0, seq))
            elif command == UNBIND:
                out.append(HEAD.pack(16, UNBIND_RESP, 0, seq))
            elif not command & 0x80000000:
                out.append(HEAD.pack(16, GENERIC_NACK, 3, seq))
        del buf[:at]
        if out:
            self.transport.write(b"".join(out))


async def serve(port, count_file):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    last = -1
    while True:
        if Sink.count != last:
            last = Sink.count
            with open(count_file + ".tmp", "w") as f:
                f.write(str(last))
            # Readers never see a half-written number.
            os.replace(count_file + ".tmp", count_file)
        await asyncio.sleep(0.05)


class Blaster(asyncio.Protocol):
    """One bind_transceiver, then `todo` submit_sm with at most `window` unanswered."""

    def __init__(self, todo, window, done):
        self.todo, self.window, self.done = todo, window, done
        self.sent = self.answered = 0
        self.buf = bytearray()
        text = b"Hello from the benchmark"
        # service_type, source (ton, npi, addr), destination (ton, npi, addr), esm_class,
        # protocol_id, priority, schedule, validity, registered_delivery, replace,
        # data_coding, default_msg_id, sm_length, short_message.
        self.submit = (b"\0" + b"\x01\x01bench\0" + b"\x01\x0114155550100\0" + b"\0\0\0"
                       + b"\0\0" + b"\0\0\0\0" + bytes([len(text)]) + text)

    def connection_made(self, transport):
        self.transport = transport
        body = b"bench\0pw\0\0\x34\0\0\0"
        transport.write(HEAD.pack(16 + len(body), 0x09, 0, 1) + body)

    def send(self, n):
        out = []
        for _ in range(n):
            self.sent += 1
            out.append(HEAD.pack(16 + len(self.submit), SUBMIT, 0, self.sent + 1) + self.submit)
        self.transport.write(b"".join(out))

    def data_received(self, data):
        self.buf += data
        at = 0
        answered = 0
        while len(self.buf) - at >= 16:
            length, command, status, _seq = HEAD.unpack_from(self.buf, at)
            if len(self.buf) - at < length:
                break
            at += length
            if command == 0x80000009:
                if status:
                    raise SystemExit("bind refused")
                self.send(min(self.window, self.todo))
            elif command == SUBMIT_RESP:
                answered += 1
        del self.buf[:at]
        self.answered += answered
        more = min(answered, self.todo - self.sent)
        if more > 0:
            self.send(more)
        if self.answered >= self.todo and not self.done.done():
            self.done.set_result(None)


async def blast(port, n, sessions, window):
    loop = asyncio.get_running_loop()
    per = [n // sessions + (1 if i < n % sessions else 0) for i in range(sessions)]
    dones = [loop.create_future() for _ in per]
    t0 = time.monotonic()
    for todo, done in zip(per, dones):
        await loop.create_connection(lambda t=todo, d=done: Blaster(t, window, d), "127.0.0.1",
                                     port)
    await asyncio.gather(*dones)
    print("rate %.0f" % (n / (time.monotonic() - t0)), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        asyncio.run(serve(int(sys.argv[2]), sys.argv[3]))
    else:
        asyncio.run(blast(*(int(a) for a in sys.argv[2:6])))
