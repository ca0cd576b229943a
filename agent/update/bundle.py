"""A signed update bundle: one tar file holding `manifest.json`, its Ed25519 signature
`manifest.sig`, and the payload it lists (the agent's wheel, and any dependency wheel that
changed), each with its SHA-256.

Everything is checked before anything is touched: the signature against the cart's keyring
(`/etc/telecart/update-keys/*.pem`, public keys only), the manifest's `compatible` against the
cart's, then each payload file's hash, read from the tar without extracting it. Only then is a
file written (releases.py). A bundle with other members, links, paths outside itself or a file
the manifest does not list is refused whole.

Ed25519 through `cryptography` (already the agent's): small keys, deterministic signatures, no
parameters to get wrong. RAUC's CMS bundles would sign a whole root file system (docs/image.md
says how an OS update would come); this bundle updates the agent, its own way (issue 14)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

COMPATIBLE = "telecart-chariot"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
VERSION = re.compile(r"^[0-9]+(\.[0-9]+){1,3}([.-]?[a-z0-9]+)?$")
WHEEL = re.compile(r"^[A-Za-z0-9_.+-]+\.whl$")
MAX_MANIFEST = 64 * 1024


class BundleRefused(Exception):
    """Why the bundle is not installed, in French, for the technician's page."""


@dataclass(frozen=True)
class Manifest:
    version: str
    compatible: str
    files: dict[str, str]  # wheel name -> SHA-256 hex


def keyring(directory: Path) -> list[Ed25519PublicKey]:
    """The public keys the cart trusts (PEM files): none is a refusal of every bundle."""
    keys = []
    for path in sorted(directory.glob("*.pem")) if directory.is_dir() else []:
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            keys.append(key)
    return keys


def _member(archive: tarfile.TarFile, name: str, limit: int) -> bytes:
    try:
        info = archive.getmember(name)
    except KeyError as error:
        raise BundleRefused(f"paquet de mise à jour incomplet : {name} manque") from error
    if not info.isfile() or info.size > limit:
        raise BundleRefused(f"paquet de mise à jour invalide : {name}")
    extracted = archive.extractfile(info)
    assert extracted is not None
    return extracted.read()


def _signed_manifest(archive: tarfile.TarFile, keys: list[Ed25519PublicKey]) -> Manifest:
    raw, signature = _member(archive, MANIFEST, MAX_MANIFEST), _member(archive, SIGNATURE, 1024)
    if not keys:
        raise BundleRefused("aucune clé de mise à jour n'est installée sur le chariot : paquet refusé")
    for key in keys:
        try:
            key.verify(signature, raw)
            break
        except InvalidSignature:
            continue
    else:
        raise BundleRefused("signature du paquet de mise à jour invalide : il ne vient pas de l'éditeur, ou il a été modifié")
    try:
        said = json.loads(raw)
        manifest = Manifest(str(said["version"]), str(said["compatible"]), {str(k): str(v) for k, v in dict(said["files"]).items()})
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BundleRefused("manifeste du paquet de mise à jour illisible") from error
    if not VERSION.match(manifest.version) or not all(WHEEL.match(name) for name in manifest.files):
        raise BundleRefused("manifeste du paquet de mise à jour invalide")
    return manifest


def verify(path: Path, keys: list[Ed25519PublicKey], compatible: str = COMPATIBLE) -> Manifest:
    """The bundle's manifest once its signature, its compatibility and every payload hash hold;
    BundleRefused otherwise. Nothing is written."""
    try:
        with tarfile.open(path, "r:") as archive:
            manifest = _signed_manifest(archive, keys)
            if manifest.compatible != compatible:
                raise BundleRefused(f"paquet pour « {manifest.compatible} », pas pour ce chariot ({compatible})")
            expected = {MANIFEST, SIGNATURE, *manifest.files}
            names = archive.getnames()
            if sorted(names) != sorted(expected):
                raise BundleRefused("le paquet de mise à jour contient des fichiers que son manifeste ne signe pas")
            for name, digest in manifest.files.items():
                info = archive.getmember(name)
                if not info.isfile():
                    raise BundleRefused(f"paquet de mise à jour invalide : {name}")
                content = archive.extractfile(info)
                assert content is not None
                hashed = hashlib.sha256()
                for chunk in iter(lambda content=content: content.read(1 << 20), b""):
                    hashed.update(chunk)
                if hashed.hexdigest() != digest:
                    raise BundleRefused(f"le fichier {name} du paquet a été modifié (empreinte différente)")
            return manifest
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BundleRefused(f"paquet de mise à jour illisible ({error.__class__.__name__})") from error


def extract(path: Path, manifest: Manifest, into: Path) -> list[Path]:
    """The verified payload's files written into `into` (a fresh directory); their paths."""
    into.mkdir(parents=True)
    written = []
    with tarfile.open(path, "r:") as archive:
        for name in manifest.files:
            content = archive.extractfile(archive.getmember(name))
            assert content is not None
            target = into / name
            target.write_bytes(content.read())
            written.append(target)
    return written


def make(out: Path, version: str, wheels: list[Path], key: Ed25519PrivateKey, compatible: str = COMPATIBLE) -> Path:
    """A bundle signed with the publisher's private key (the release process, and the tests)."""
    files = {wheel.name: hashlib.sha256(wheel.read_bytes()).hexdigest() for wheel in wheels}
    raw = json.dumps({"version": version, "compatible": compatible, "files": files}, indent=2, sort_keys=True).encode()
    with tarfile.open(out, "w:") as archive:
        for name, data in ((MANIFEST, raw), (SIGNATURE, key.sign(raw))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for wheel in wheels:
            archive.add(wheel, arcname=wheel.name, recursive=False)
    return out
