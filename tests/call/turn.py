"""Debian's coturn (`turnserver`) for the call tests: on loopback with plain `turn:` (the relay
tests), or on a ward's outside address with `turns:` on port 443 under a certificate of a test
authority made here (the firewall test); the test authority in an NSS database for Chromium.
docs/coturn.md says what each setting is for."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
import random
import socket
import ssl
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.processes import end

TURNSERVER = "/usr/bin/turnserver"
CERTUTIL = "/usr/bin/certutil"


@dataclass
class Tls:
    """A test authority and a server certificate it signed (PEM files)."""
    ca: Path
    certificate: Path
    key: Path


@dataclass
class Turn:
    port: int
    relay_ports: range
    log_path: Path
    host: str = "127.0.0.1"
    tls_port: int | None = None  # turns: (TLS over TCP), when coturn has a certificate

    def url(self, transport: str) -> str:
        return f"turn:{self.host}:{self.port}?transport={transport}"

    def tls_url(self) -> str:
        return f"turns:{self.host}:{self.tls_port}?transport=tcp"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no coturn log)"


def free_udp_and_tcp_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` for both UDP and TCP (coturn listens on both)."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both UDP and TCP")


def _binding_request() -> tuple[bytes, bytes]:
    transaction = os.urandom(12)
    return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction, transaction


def _is_success(answer: bytes, transaction: bytes) -> bool:
    return len(answer) >= 20 and answer[:2] == b"\x01\x01" and answer[8:20] == transaction


def stun_answers(port: int, timeout: float = 0.2, host: str = "127.0.0.1") -> bool:
    """True when a STUN Binding request to `host`:`port` gets its success response."""
    request, transaction = _binding_request()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(timeout)
        try:
            udp.sendto(request, (host, port))
            answer = udp.recv(2048)
        except OSError:  # timeout, or "connection refused" (nothing listens yet)
            return False
    return _is_success(answer, transaction)


def stun_answers_over_tls(host: str, port: int, ca: Path, timeout: float = 1.0) -> bool:
    """True when a STUN Binding request over TLS (the certificate checked against `ca` for `host`)
    gets its success response."""
    request, transaction = _binding_request()
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(request)
            answer = tls.recv(2048)
    except OSError:  # nothing listens yet; ssl.SSLError is an OSError too
        return False
    return _is_success(answer, transaction)


def turn_config(turn: Turn, directory: Path, secret: str | None = None, tls: Tls | None = None, plain_tcp: bool = True) -> str:
    """The settings of ../shared/notes/webrtc-here.md, on ports of this test run: one address only,
    long-term credentials test:test (or coturn's shared secret), relays to loopback allowed
    (never in production). With `tls`: turns: on `turn.tls_port` too; without `plain_tcp`: turn:
    over UDP and turns:, no turn: over TCP."""
    credentials = ["use-auth-secret", f"static-auth-secret={secret}"] if secret else ["lt-cred-mech", "user=test:test"]
    if tls:
        transport = [f"tls-listening-port={turn.tls_port}", f"cert={tls.certificate}", f"pkey={tls.key}", "no-tlsv1", "no-tlsv1_1"]
    else:
        transport = ["no-tls"]
    return "\n".join([
        f"listening-ip={turn.host}", f"listening-port={turn.port}", f"relay-ip={turn.host}",
        f"min-port={turn.relay_ports.start}", f"max-port={turn.relay_ports.stop - 1}",
        *credentials, "realm=test", "fingerprint",
        *transport, *([] if plain_tcp else ["no-tcp"]),
        "no-dtls", "no-cli", "no-tcp-relay", "allow-loopback-peers",
        "no-stdout-log", "simple-log", f"log-file={turn.log_path}", f"pidfile={directory / 'turnserver.pid'}",
        f"userdb={directory / 'turndb'}", "verbose", "",
    ])


@contextlib.contextmanager
def port_in_turn(hosts: Sequence[str], port: int) -> Iterator[str]:
    """One of `hosts` whose fixed `port` (443) no other xdist worker of this run holds meanwhile:
    the workers share one network namespace, where two coturns cannot both listen on the same
    address and port. A lock file per address, port and namespace; the first free one, else wait
    for the first."""
    namespace = os.stat("/proc/self/ns/net").st_ino

    def lock(host: str, wait: bool) -> object | None:
        handle = open(Path(tempfile.gettempdir()) / f"telecart-port-{namespace}-{host}-{port}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            return None
        return handle

    for host in hosts:
        held = lock(host, wait=False)
        if held is not None:
            break
    else:
        host, held = hosts[0], lock(hosts[0], wait=True)
    try:
        yield host
    finally:
        held.close()  # type: ignore[union-attr]  (closing releases the lock)


@contextlib.contextmanager
def running_coturn(directory: Path, secret: str | None = None, *, host: str = "127.0.0.1", port: int | None = None,
                   tls: Tls | None = None, tls_port: int = 443, plain_tcp: bool = True,
                   failed: Callable[[], bool] = lambda: False) -> Iterator[Turn]:
    """coturn on `host`, ready when it answers STUN (over TLS too when it has `tls`); stopped at
    the end, its log printed when `failed()` says the test failed."""
    directory.mkdir(parents=True, exist_ok=True)
    # Relayed ports below Linux's ephemeral range (32768+), a block of 100 of our own: another
    # coturn of a parallel run is unlikely to want the same.
    first = random.randrange(20000, 32600, 100)
    turn = Turn(port or free_udp_and_tcp_port(host), range(first, first + 100), directory / "turnserver.log", host,
                tls_port if tls else None)
    config = directory / "turnserver.conf"
    config.write_text(turn_config(turn, directory, secret, tls, plain_tcp), encoding="utf-8")
    with open(directory / "turnserver.out", "ab") as output:  # what it says before its log file opens
        proc = subprocess.Popen([TURNSERVER, "-c", str(config)], stdout=output, stderr=output, stdin=subprocess.DEVNULL)

    def ready() -> bool:
        return stun_answers(turn.port, host=host) and (tls is None or stun_answers_over_tls(host, tls_port, tls.ca))

    try:
        deadline = time.monotonic() + 10
        while not ready():
            if proc.poll() is not None:
                raise RuntimeError(f"turnserver exited with {proc.returncode}:\n{turn.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"turnserver does not answer STUN on {host}:{turn.port} after 10 s:\n{turn.log()}")
            time.sleep(0.05)
        yield turn
    finally:
        end(proc, wait=5)
        if failed():
            print(f"--- coturn's log ({turn.log_path}) ---\n{turn.log()}")


# --- a test authority -----------------------------------------------------------------------------

def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_authority(directory: Path, host: str) -> Tls:
    """A certification authority made for one test, and a certificate it signed for the server at
    `host` (an IP address: browsers and Python check it against the certificate's IP names)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Telecart test authority")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    tls = Tls(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    tls.ca.write_bytes(_pem(ca))
    tls.certificate.write_bytes(_pem(leaf))
    tls.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    tls.key.chmod(0o600)
    return tls


def chromium_home(directory: Path, ca: Path) -> Path:
    """A HOME for Chromium whose NSS database trusts `ca` for servers: Chromium checks a TURN
    server's certificate there, and with no way around it (Playwright's ignore_https_errors does
    not reach TURN: it gathers no candidate at all, ../shared/notes/webrtc-scale-here.md §3)."""
    database = directory / ".pki" / "nssdb"
    database.mkdir(parents=True, exist_ok=True)
    for command in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "telecart-test-authority", "-i", str(ca)]):
        subprocess.run([CERTUTIL, "-d", f"sql:{database}", *command], check=True, capture_output=True, timeout=30)
    return directory


def assert_relayed_call(video: object, sound: object, path: dict | None, heard: float) -> None:
    """What a relayed call must show: the cart's camera at its full 720p and moving, its beep heard,
    and the path from Chromium's relayed address to the cart's, nothing but relay candidates offered."""
    assert isinstance(video, dict), f"the cart's video gave no frame: {video}"
    assert (video["width"], video["height"]) == (1280, 720), video
    assert video["fps"] > 5, video  # 30 on an idle machine: only a frozen picture fails here
    assert isinstance(sound, (int, float)) and sound > heard, f"the cart's beep is not heard: {sound}"
    assert path and path["state"] == "connected", path
    assert path["local"] == "relay" and path["remote"] == "relay", path
    assert set(path["gathered"]) == {"relay"}, path  # relay-only: no host candidate was even offered
