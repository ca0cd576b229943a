"""The HTTPS listener's certificate: the configured one, or the cart's own, made once.

Browsers give the camera and microphone only to secure pages (loopback excepted), so a
participant's join page must come over HTTPS. A self-signed certificate makes that work on the
EHPAD's network after one warning; a real certificate (configured) removes the warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from agent.config import ServerConfig

VALID_DAYS = 825  # the longest validity browsers accept for a server certificate


def _names(server: ServerConfig) -> list[str]:
    names = {socket.gethostname(), "localhost", urlsplit(server.public_url).hostname or ""}
    names.update(h.split(":")[0] for h in server.allowed_hosts)
    return sorted(n for n in names if n)


def _self_signed(names: list[str]) -> tuple[bytes, bytes]:
    # Imported here: once in a cart's life (x509 alone is a tenth of the agent's imports)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Telecart")])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    alt.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def certificate_files(server: ServerConfig, data_dir: Path) -> tuple[Path, Path]:
    """The configured pair, else the cart's own (made on first use, kept across restarts)."""
    if server.tls_certificate:
        return Path(server.tls_certificate), Path(server.tls_key)
    directory = data_dir / "tls"
    cert, key = directory / "cart.crt", directory / "cart.key"
    if not (cert.is_file() and key.is_file()):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert_pem, key_pem = _self_signed(_names(server))
        key.touch(mode=0o600)
        key.write_bytes(key_pem)
        cert.write_bytes(cert_pem)
    return cert, key


def server_context(server: ServerConfig, data_dir: Path) -> ssl.SSLContext:
    cert, key = certificate_files(server, data_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


# A configured file may hold text before the certificate (openssl's « Bag Attributes ») and the
# chain after it (a fullchain.pem): the served certificate is the first block.
_FIRST_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def fingerprint(cert_path: Path) -> str:
    """SHA-256 of the served certificate, as browsers show it (AB:CD:…): the technician compares it
    with the one on the cart's screen before trusting the page."""
    found = _FIRST_CERTIFICATE.search(cert_path.read_bytes())
    if found is None:
        raise ValueError(f"no PEM certificate in {cert_path}")
    der = ssl.PEM_cert_to_DER_cert(found.group(0).decode("ascii"))
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
