"""An MSSanté operator on loopback: a real SMTP server (aiosmtpd) that requires a client
certificate signed by its authority, over implicit TLS or STARTTLS; and the certificates, made
here with cryptography (EC P-256): a test authority, the server's, the cart's, and a rogue cart's
from another authority (../shared/notes/print-discovery-mail-update-here.md §3)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.notify.servers import Inbox, free_port

CART_CN = "chariot-0042.tilleuls.mssante.test"


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    cart_cert: Path
    cart_key: Path
    rogue_cert: Path
    rogue_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Telecart Test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key: Any, issuer: x509.Name, issuer_key: Any, *, ca: bool = False, server: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    elif server:
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                         critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate | None = None, key: Any = None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("ca", "server", "cart", "rogue_ca", "rogue")}
    ca = _cert("Autorite de test MSSante", keys["ca"], _name("Autorite de test MSSante"), keys["ca"], ca=True)
    rogue_ca = _cert("Autorite de test MSSante", keys["rogue_ca"], _name("Autorite de test MSSante"), keys["rogue_ca"], ca=True)
    return Pki(
        ca=_write(directory / "ca.pem", ca),
        server_cert=_write(directory / "server.pem", _cert("localhost", keys["server"], ca.subject, keys["ca"], server=True)),
        server_key=_write(directory / "server.key", key=keys["server"]),
        cart_cert=_write(directory / "cart.pem", _cert(CART_CN, keys["cart"], ca.subject, keys["ca"])),
        cart_key=_write(directory / "cart.key", key=keys["cart"]),
        rogue_cert=_write(directory / "rogue.pem", _cert(CART_CN, keys["rogue"], rogue_ca.subject, keys["rogue_ca"])),
        rogue_key=_write(directory / "rogue.key", key=keys["rogue"]),
    )


def server_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@dataclass
class OperatorInbox(Inbox):
    """Keeps what it accepts and the common name of the client certificate each message came with."""

    peers: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        peer = server.transport.get_extra_info("peercert") or {}
        self.peers.append(next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), ""))
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def operator(pki: Pki, mode: str, inbox: OperatorInbox) -> Iterator[int]:
    """The operator's SMTP server on 127.0.0.1 in `mode` "tls" (implicit) or "starttls"; yields its port."""
    options: dict[str, Any] = {"ssl_context": server_context(pki)} if mode == "tls" else {
        "tls_context": server_context(pki), "require_starttls": True}
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), server_hostname="smtp.operateur.mssante.test",
                            ready_timeout=5.0, **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
