"""The card's PKCS#11 module, run in a process of its own for each card inserted.

Why a process: the module is a vendor's C library (the ANS's Cryptolib on a cart). Loaded in the
agent, a crash in it would take the whole cart down, and many modules list their cards only once,
when first initialised. In a child started when the card goes in and ended when it comes out, a
failing module is a French message on the kiosk, and each card is seen fresh.

The child serves JSON lines on its stdin and stdout: {"op": "key"} | {"op": "pin_state"} |
{"op": "sign", "pin": …, "challenge": b64, "key_id": hex}; each answer is {"ok": true, …} or
{"ok": false, "error": <TokenError class name>, "message": <French>}.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from typing import Any

from drivers.smartcard import token_types as t

_ERRORS = {cls.__name__: cls for cls in (t.TokenError, t.ModuleUnavailable, t.NoCardToken, t.PinWrong, t.PinBlocked, t.CardGone)}
ANSWER_SECONDS = 30.0  # a module that hangs is given up on, and its process ended


class TokenProcess:
    """The agent's side: one child per card, one request at a time."""

    def __init__(self, module: str, token_label: str, reader: str) -> None:
        self.args = (module, token_label, reader)
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            if self._proc is None or self._proc.returncode is not None:
                self._proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "drivers.smartcard.token_process", *self.args,
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(json.dumps(request).encode() + b"\n")
                await self._proc.stdin.drain()
                async with asyncio.timeout(ANSWER_SECONDS):
                    line = await self._proc.stdout.readline()
            except (OSError, TimeoutError):
                line = b""
            if not line:  # crashed, or hung
                await self.close()
                raise t.TokenError("le module de la carte CPS s'est arrêté")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise _ERRORS.get(answer.get("error"), t.TokenError)(answer.get("message") or "la carte n'a pas répondu")
        return answer

    async def key(self) -> t.CardKey:
        from cryptography import x509  # with the first card, not the agent's start

        answer = await self._ask({"op": "key"})
        return t.CardKey(x509.load_der_x509_certificate(base64.b64decode(answer["certificate"])), bytes.fromhex(answer["key_id"]))

    async def pin_state(self) -> t.PinState:
        answer = await self._ask({"op": "pin_state"})
        return t.PinState(**answer["state"])

    async def sign(self, key_id: bytes, pin: str, challenge: bytes) -> bytes:
        answer = await self._ask({"op": "sign", "pin": pin, "challenge": base64.b64encode(challenge).decode(), "key_id": key_id.hex()})
        return base64.b64decode(answer["signature"])

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            async with asyncio.timeout(2):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _serve(module: str, token_label: str, reader: str) -> None:
    """The child's side: the only one that loads python-pkcs11 and the vendor's module."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from drivers.smartcard.token import CardModule

    card = CardModule(module, token_label)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "key":
                key = card.key(card.token(reader))
                answer = {"certificate": base64.b64encode(key.certificate.public_bytes(Encoding.DER)).decode(), "key_id": key.key_id.hex()}
            elif request["op"] == "pin_state":
                answer = {"state": vars(card.pin_state(reader))}
            else:
                signature = card.sign(card.token(reader), bytes.fromhex(request["key_id"]), request["pin"],
                                      base64.b64decode(request["challenge"]))
                answer = {"signature": base64.b64encode(signature).decode()}
            reply = {"ok": True, **answer}
        except t.TokenError as error:
            reply = {"ok": False, "error": type(error).__name__, "message": str(error)}
        except Exception:  # noqa: BLE001 (whatever the module raised: a French message, never a trace)
            reply = {"ok": False, "error": "TokenError", "message": "le module de la carte CPS a échoué"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve(*sys.argv[1:4])
