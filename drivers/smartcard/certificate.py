"""Who the card belongs to, from its authentication certificate; and whether an authority the
cart trusts (IGC-Santé in production) issued it. Certificates in, a practitioner or a refusal out.

A CPS's subject is one multi-valued name {SN=surname + GN=given name + CN=idNat_PS}, then
title=profession and C=FR (../shared/notes/card-psc-here.md §2, from public fixtures of ANS test
cards). idNat_PS is the national identifier: "8" followed by the 11-digit RPPS number for the
professions that have one, other prefixes for the others (ADELI, staff).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError


class CertificateRefused(Exception):
    """The certificate cannot log anyone in; the message says why, in French."""


@dataclass(frozen=True)
class Practitioner:
    idnat: str  # idNat_PS, the national identifier of health professionals
    surname: str
    given_name: str
    title: str | None  # the profession ("Médecin", "Infirmier"…)
    fingerprint: str  # SHA-256 of the certificate: which card, without keeping the card's data

    @property
    def rpps(self) -> str | None:
        return self.idnat[1:] if self.idnat.startswith("8") and len(self.idnat) == 12 else None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname.upper()}".strip()


def _one(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value).strip() if values else None


def practitioner_of(certificate: x509.Certificate) -> Practitioner:
    idnat = _one(certificate.subject, NameOID.COMMON_NAME)
    surname = _one(certificate.subject, NameOID.SURNAME)
    if not idnat or not idnat.isalnum() or not surname:
        raise CertificateRefused("le certificat de la carte ne porte pas d'identifiant national de professionnel de santé")
    return Practitioner(idnat=idnat, surname=surname, given_name=_one(certificate.subject, NameOID.GIVEN_NAME) or "",
                        title=_one(certificate.subject, NameOID.TITLE),
                        fingerprint=certificate.fingerprint(hashes.SHA256()).hex())


def load_anchors(pem: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(roots, intermediates) of a PEM bundle: the self-issued ones are roots."""
    certificates = x509.load_pem_x509_certificates(pem)
    roots = [c for c in certificates if c.issuer == c.subject]
    return roots, [c for c in certificates if c.issuer != c.subject]


def check_chain(certificate: x509.Certificate, roots: list[x509.Certificate], intermediates: list[x509.Certificate],
                now: dt.datetime) -> None:
    """Issued, through `intermediates`, by one of `roots`, and valid `now`; else CertificateRefused."""
    if not roots:
        raise CertificateRefused("aucune autorité de certification n'est configurée sur le chariot ([card] trust_anchors)")
    # Web PKI's rules, minus the subject alternative name that a CPS certificate need not carry.
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    verifier = (PolicyBuilder().store(Store(roots)).time(now)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
                .build_client_verifier())
    try:
        verifier.verify(certificate, intermediates)
    except VerificationError as error:
        if now > certificate.not_valid_after_utc:
            raise CertificateRefused("le certificat de la carte a expiré : la carte doit être renouvelée") from error
        if now < certificate.not_valid_before_utc:
            raise CertificateRefused("le certificat de la carte n'est pas encore valide") from error
        raise CertificateRefused("la carte n'a pas été émise par une autorité reconnue par le chariot") from error
