"""The card's secrets, through its PKCS#11 module (the ANS's Cryptolib CPS on a cart; SoftHSM2 in
the tests): the authentication certificate (public, read without the PIN), the PIN's state as
the card reports it, and a signature of a challenge after the PIN.

python-pkcs11 rather than PyKCS11: typed exceptions (PinIncorrect, PinLocked…), bytes, tokens
found by label (../shared/notes/card-psc-here.md §2). This runs in a process of its own per card
inserted (token_process.py), never in the agent.
"""

from __future__ import annotations

import pkcs11
from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11.util.ec import encode_ecdsa_signature

from drivers.smartcard.token_types import CardGone, CardKey, ModuleUnavailable, NoCardToken, PinBlocked, PinState, PinWrong, TokenError

__all__ = ["CardGone", "CardKey", "CardModule", "ModuleUnavailable", "NoCardToken", "PinBlocked", "PinState", "PinWrong", "TokenError"]


_LIBS: dict[str, pkcs11.lib] = {}


class CardModule:
    def __init__(self, path: str, token_label: str = "") -> None:
        self.path = path
        self.token_label = token_label

    def _lib(self) -> pkcs11.lib:
        if not self.path:
            raise ModuleUnavailable("le module PKCS#11 de la carte CPS n'est pas configuré ([card] pkcs11_module)")
        if self.path not in _LIBS:  # a module is initialised once per process
            try:
                _LIBS[self.path] = pkcs11.lib(self.path)
            except (RuntimeError, OSError, pkcs11.PKCS11Error) as error:
                raise ModuleUnavailable(f"le module de la carte CPS ne se charge pas ({self.path})") from error
        return _LIBS[self.path]

    def token(self, reader: str) -> pkcs11.Token:
        """The token of the card in `reader`: the slot named after the reader (the Cryptolib's way),
        else the configured label, else the only card present."""
        try:
            slots = self._lib().get_slots(token_present=True)
        except pkcs11.PKCS11Error as error:
            raise TokenError("le module de la carte CPS ne répond pas") from error
        slots = [s for s in slots if s.get_token().flags & TokenFlag.TOKEN_INITIALIZED]  # SoftHSM keeps a blank one free
        tokens = [slot.get_token() for slot in slots]
        by_reader = [t for s, t in zip(slots, tokens) if reader and reader in s.slot_description]
        if by_reader:
            return by_reader[0]
        if self.token_label:
            labelled = [t for t in tokens if t.label.strip() == self.token_label]
            if labelled:
                return labelled[0]
        if len(tokens) == 1:
            return tokens[0]
        raise NoCardToken("la carte n'est pas lue par le module CPS : retirez-la et insérez-la de nouveau")

    def key(self, token: pkcs11.Token) -> CardKey:
        """The authentication certificate and the id of its key (public objects: no PIN)."""
        try:
            with token.open() as session:
                found = [(bytes(o[Attribute.ID]), str(o[Attribute.LABEL]), bytes(o[Attribute.VALUE]))
                         for o in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})]
        except pkcs11.PKCS11Error as error:
            raise _gone_or(error, "le certificat de la carte ne se lit pas") from error
        if not found:
            raise NoCardToken("la carte ne porte pas de certificat d'authentification")
        certificates = [(key_id, label, x509.load_der_x509_certificate(value)) for key_id, label, value in found]
        chosen = next((c for c in certificates if "authentification" in c[1].lower()), None) \
            or next((c for c in certificates if _authenticates(c[2])), certificates[0])
        return CardKey(certificate=chosen[2], key_id=chosen[0])

    def pin_state(self, reader: str) -> PinState:
        flags = self.token(reader).flags  # read again: a token's flags are a snapshot
        return PinState(count_low=bool(flags & TokenFlag.USER_PIN_COUNT_LOW), final_try=bool(flags & TokenFlag.USER_PIN_FINAL_TRY),
                        locked=bool(flags & TokenFlag.USER_PIN_LOCKED))

    def sign(self, token: pkcs11.Token, key_id: bytes, pin: str, challenge: bytes) -> bytes:
        """The challenge signed by the card's authentication key once the PIN opened it."""
        try:
            with token.open(user_pin=pin) as session:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id)
                if key.key_type == KeyType.EC:
                    return encode_ecdsa_signature(key.sign(challenge, mechanism=Mechanism.ECDSA_SHA256))
                return key.sign(challenge, mechanism=Mechanism.SHA256_RSA_PKCS)
        except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinInvalid, pkcs11.exceptions.PinLenRange) as error:
            raise PinWrong("code porteur erroné") from error
        except pkcs11.exceptions.PinLocked as error:
            raise PinBlocked("la carte est bloquée : trop de codes erronés") from error
        except pkcs11.PKCS11Error as error:
            raise _gone_or(error, "la carte n'a pas pu signer") from error


def _authenticates(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    except x509.ExtensionNotFound:
        return False
    return bool(usage.digital_signature and not usage.content_commitment)


def _gone_or(error: Exception, message: str) -> TokenError:
    if isinstance(error, (pkcs11.exceptions.TokenNotPresent, pkcs11.exceptions.DeviceRemoved, pkcs11.exceptions.SessionHandleInvalid,
                          pkcs11.exceptions.SessionClosed, pkcs11.exceptions.TokenNotRecognised)):
        return CardGone("la carte a été retirée")
    return TokenError(message)
