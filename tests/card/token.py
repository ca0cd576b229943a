"""The card's key and certificates for the tests: a SoftHSM2 token (Debian's softhsm2) holding an
RSA-2048 key generated on the token and its authentication certificate, issued at test time by a
test authority shaped like IGC-Santé's (../shared/notes/card-psc-here.md §2).

SoftHSM keeps its tokens in a directory of its own (SOFTHSM2_CONF), which the agent under test is
given in its environment, as a real cart's agent is given the Cryptolib's path."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
AUTH_LABEL = "Certificat d'Authentification CPS"
SO_PIN = "87654321"


@dataclass(frozen=True)
class Holder:
    surname: str
    given_name: str
    idnat: str  # "8" + RPPS for a practitioner with an RPPS number
    title: str = "Médecin"

    @property
    def rpps(self) -> str:
        return self.idnat[1:]


@dataclass
class Authority:
    """A test certification authority, its key kept in memory."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def make(cls, name: str = "TEST AC IGC-SANTE FORT PERSONNES") -> Authority:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST ASIP-SANTE"),
                             x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return cls(key, cert)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, holder: Holder, public_key: rsa.RSAPublicKey, days: int = 1095, backdate_days: int = 1) -> x509.Certificate:
        """An authentication certificate as the CPS carries it: SN+GN+CN=idNat_PS, title, C=FR."""
        subject = x509.Name([
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.SURNAME, holder.surname),
                                            x509.NameAttribute(NameOID.GIVEN_NAME, holder.given_name),
                                            x509.NameAttribute(NameOID.COMMON_NAME, holder.idnat)]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, holder.title)]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]),
        ])
        now = dt.datetime.now(dt.UTC)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(self.certificate.subject).public_key(public_key)
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=backdate_days))
                .not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
                .sign(self.key, hashes.SHA256()))


@dataclass
class SoftToken:
    """A SoftHSM2 directory with one token per card."""

    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.root / "softhsm2.conf")}

    @classmethod
    def make(cls, root: Path) -> SoftToken:
        (root / "tokens").mkdir(parents=True, exist_ok=True)
        (root / "softhsm2.conf").write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
        return cls(root)

    def card(self, label: str, holder: Holder, authority: Authority, pin: str = "1234", days: int = 1095,
             backdate_days: int = 1) -> x509.Certificate:
        """A token named `label` holding the holder's key (made on the token) and authentication
        certificate. Done in a process of its own: SoftHSM reads its configuration once per
        process, and the tests' process must not hold the tokens the agent uses."""
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin],
                       env={**os.environ, **self.env}, check=True, capture_output=True)
        order = {"label": label, "pin": pin, "holder": vars(holder), "days": days, "backdate_days": backdate_days,
                 "ca_key": authority.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()).decode(),
                 "ca_cert": authority.pem().decode()}
        done = subprocess.run([sys.executable, "-m", "tests.card.token"], input=json.dumps(order), text=True,
                              env={**os.environ, **self.env}, check=True, capture_output=True)
        return x509.load_pem_x509_certificate(done.stdout.encode())


def _fill_token(order: dict) -> str:
    """In the child process: key pair on the token, certificate issued and stored beside it."""
    authority = Authority(serialization.load_pem_private_key(order["ca_key"].encode(), None),  # type: ignore[arg-type]
                          x509.load_pem_x509_certificate(order["ca_cert"].encode()))
    token = pkcs11.lib(MODULE).get_token(token_label=order["label"])
    with token.open(rw=True, user_pin=order["pin"]) as session:
        public, _ = session.generate_keypair(KeyType.RSA, 2048, id=b"\x01", label=AUTH_LABEL, store=True)
        numbers = rsa.RSAPublicNumbers(int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                                       int.from_bytes(public[Attribute.MODULUS], "big"))
        certificate = authority.issue(Holder(**order["holder"]), numbers.public_key(), order["days"], order["backdate_days"])
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.ID: b"\x01", Attribute.LABEL: AUTH_LABEL,
            Attribute.SUBJECT: certificate.subject.public_bytes(), Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
        })
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


if __name__ == "__main__":
    sys.stdout.write(_fill_token(json.loads(sys.stdin.read())))
