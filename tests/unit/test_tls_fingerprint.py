"""The fingerprint the cart's screen and the technician's page show is the served certificate's, as
a browser computes it, whatever else the certificate file holds."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from agent import tls


def browsers_fingerprint(pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(pem)
    return ":".join(f"{b:02X}" for b in certificate.fingerprint(hashes.SHA256()))


def test_the_carts_own_certificate(tmp_path: Path) -> None:
    leaf, _ = tls._self_signed(["chariot.local"])
    (tmp_path / "cart.crt").write_bytes(leaf)
    assert tls.fingerprint(tmp_path / "cart.crt") == browsers_fingerprint(leaf)


def test_a_configured_file_with_text_before_and_its_chain_after(tmp_path: Path) -> None:
    leaf, _ = tls._self_signed(["teleconsultation.ehpad.example"])
    intermediate, _ = tls._self_signed(["autorite-intermediaire.example"])
    bag = "Bag Attributes\n    friendlyName: Hôpital Saint-Jean\nsubject=/CN=teleconsultation.ehpad.example\n".encode()
    (tmp_path / "fullchain.pem").write_bytes(bag + leaf + intermediate)
    assert tls.fingerprint(tmp_path / "fullchain.pem") == browsers_fingerprint(leaf)
    assert browsers_fingerprint(leaf) != browsers_fingerprint(intermediate)
