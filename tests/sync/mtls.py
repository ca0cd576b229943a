"""Mutual TLS for the sync tests: certificates made with `cryptography` (an authority, a server
certificate for 127.0.0.1, a cart's client certificate) and a TLS-terminating proxy on loopback that
requires a client certificate signed by the authority before it pipes the bytes to a plain-HTTP
server (sekmet), as a region's reverse proxy would.

    authority = certificate(tmp_path / "ca", "Autorité régionale")
    certificate(tmp_path / "server", "127.0.0.1", authority)          # server.pem, server.key
    certificate(tmp_path / "cart", "chariot-12", authority)            # cart.pem, cart.key
    with tls_proxy(server.port, tmp_path / "ca.pem", tmp_path / "server") as proxy:
        proxy.port, proxy.refused   # where to connect; handshakes refused (no or a bad certificate)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Issued = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def certificate(stem: Path, name: str, issuer: Issued | None = None) -> Issued:
    """`<stem>.pem` and `<stem>.key` (PKCS#8, unencrypted): an authority when `issuer` is None, else a
    certificate it signs, for 127.0.0.1 when `name` is that address (server), else a client's."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer, signer_key = issuer or (None, key)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(signer.subject if signer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True))
    if issuer is None:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                                      key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    elif name == "127.0.0.1":
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(name))]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(signer_key, hashes.SHA256())
    stem.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    stem.with_suffix(".key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return cert, key


@dataclass
class Proxy:
    port: int
    refused: int = 0   # TLS handshakes that failed (no client certificate, or one not signed by the authority)
    piped: int = 0     # connections that reached the backend


@contextlib.contextmanager
def tls_proxy(backend_port: int, client_authority: Path, server: Path) -> Iterator[Proxy]:
    """A TLS listener on 127.0.0.1 (server.pem/.key) that requires a client certificate signed by
    `client_authority` and pipes each connection to 127.0.0.1:backend_port; in a thread of its own."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.with_suffix(".pem"), server.with_suffix(".key"))
    context.load_verify_locations(cafile=client_authority)
    context.verify_mode = ssl.CERT_REQUIRED
    loop = asyncio.new_event_loop()
    proxy = Proxy(port=0)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            await client_writer.start_tls(context)  # here rather than in start_server: a refused handshake is seen
        except (ssl.SSLError, OSError):
            proxy.refused += 1
            client_writer.close()
            return
        proxy.piped += 1
        backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", backend_port)
        await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))

    listening = loop.run_until_complete(asyncio.start_server(serve, "127.0.0.1", 0))
    proxy.port = listening.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, name="tls-proxy", daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(listening.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
