"""A CPS card for the tests, on vsmartcard's virtual reader (vpcd): it connects to the reader's
TCP port and speaks vpcd's small protocol: each message is a 2-byte big-endian length and a
payload; a 1-byte payload is a control (0 power off, 1 power on, 2 reset, 4 ATR request: answered
with the ATR); anything longer is a command APDU, answered with data + SW1 SW2.

Inserting the card is connecting; pulling it out is closing the socket. Its cryptography is not
here: like a real CPS behind the ANS's Cryptolib, the agent reaches the card's key through PKCS#11
(SoftHSM2 in the tests, tests/card/token.py). ../shared/notes/pcsc-here.md: the measurements.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

# A CPS3's answer to reset (../shared/notes/pcsc-here.md).
CPS3_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")
# A bank card's (EMV): a card that is not a CPS.
BANK_CARD_ATR = bytes.fromhex("3B6800000073C84013009000")
VPCD_PORT = 35963  # "Virtual PCD 00 00" in Debian's /etc/reader.conf.d/vpcd


class VirtualCard:
    def __init__(self, atr: bytes = CPS3_ATR, port: int = VPCD_PORT) -> None:
        self.atr = atr
        self.port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.apdus: list[bytes] = []

    def insert(self, timeout: float = 10.0) -> VirtualCard:
        deadline = time.monotonic() + timeout
        while True:  # pcscd may be (re)starting: vpcd listens once its driver is loaded
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._serve, args=(self._sock,), daemon=True, name="virtual-card")
        self._thread.start()
        return self

    def pull(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                header = self._read(sock, 2)
                if header is None:
                    return
                (length,) = struct.unpack(">H", header)
                payload = self._read(sock, length)
                if payload is None:
                    return
                answer = self._answer(payload)
                if answer is not None:
                    sock.sendall(struct.pack(">H", len(answer)) + answer)
        except OSError:
            return

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            # Debian's vpcd 0.8 sends length and payload in two writes without TCP_NODELAY: without
            # this each APDU waits for a delayed ACK (the notes' 44 ms per round trip).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            return self.atr if payload[0] == 4 else None  # power on/off and reset need no answer
        self.apdus.append(payload)
        if payload[1] == 0xA4:  # SELECT
            return b"\x90\x00"
        return b"\x6d\x00"  # instruction not supported: the card's secrets go through PKCS#11
