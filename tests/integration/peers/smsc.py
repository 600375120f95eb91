#!/usr/bin/python3
"""The SMS centre of the SMS delivery integration tests: tests/sms/fake_smsc.py (a small SMPP 3.4
SMSC: JSON events on stdout, JSON commands on stdin, --throttle N answers the first N submit_sm
with ESME_RTHROTTLED, --ids hex|dec, --port), plus one behaviour of its own:

  --receipt-first   every accepted submit_sm gets its delivery receipt (stat DELIVRD, the id in
                    the other base when --ids is hex: decimal) *before* its submit_sm_resp, on the
                    same session, so the receipt always reaches sendcloudd before the submit is
                    recorded: the out-of-order case of docs/delivery.md "Receipts".

Why not Debian's /usr/lib/kannel/test/drive_smpp: it answers only bind_transmitter and
bind_receiver (sendcloudd binds as a transceiver), its submit_sm_resp carries no message_id, it
sends no delivery receipts, and on the first bind it connects to a bearerbox on the fixed port
13001 and panics when there is none.
"""
import asyncio
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sms"))
import fake_smsc  # noqa: E402


class ReceiptFirstWriter:
    """Passes every write through, but puts a DELIVRD receipt before each accepted submit_sm_resp."""

    def __init__(self, smsc, writer):
        self.smsc, self.writer = smsc, writer

    def write(self, data):
        length, command, status, _seq = struct.unpack(">IIII", data[:16])
        if command == fake_smsc.SUBMIT_RESP and status == 0 and length > 17:
            mid = data[16:length - 1].decode("latin-1")
            spelled = str(int(mid, 16)) if self.smsc.args.ids == "hex" else mid
            text = ("id:%s sub:001 dlvrd:001 submit date:2612050210 done date:2612050211 "
                    "stat:DELIVRD err:000 text:x" % spelled).encode()
            self.smsc.deliver(0x04, "14155550100", "acme", text)
            fake_smsc.emit(event="receipt_sent", id=spelled)
        self.writer.write(data)


class Smsc(fake_smsc.Smsc):
    def on_submit(self, body, seq, writer):
        if self.args.receipt_first:
            writer = ReceiptFirstWriter(self, writer)
        super().on_submit(body, seq, writer)


async def main():
    p = fake_smsc.parser()
    p.add_argument("--receipt-first", action="store_true")
    smsc = Smsc(p.parse_args())
    server = await asyncio.start_server(smsc.session, "127.0.0.1", smsc.args.port)
    fake_smsc.emit(event="listening", port=server.sockets[0].getsockname()[1])
    await smsc.commands()


if __name__ == "__main__":
    asyncio.run(main())
