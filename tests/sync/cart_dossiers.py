"""A cart's store filled with teleconsultations the way the API fills it (each change and its outbox
entry in one transaction, through the domain functions), for the sync's fault tests and its bench:
residents, dossiers, consents, vitals and documents whose bytes compress as badly as a camera's."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from agent.access.roles import Role
from agent.audit import Actor
from agent.config import Config
from agent.dossiers import documents as dossier_documents
from agent.dossiers import dossier, fiche
from agent.dossiers.intake import inspect
from agent.identity import patients
from agent.links.invitation import settings_from
from agent.store import transaction
from agent.store.blobs import BlobStore
from agent.store.database import DATABASE_NAME, connect

SPECIALIST = {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "c.petit@chu.example"}
VITALS = (("blood_pressure", "135/85"), ("pulse", "72"), ("spo2", "96"), ("temperature", "37.2"), ("weight", "64.5"))
NURSE = Actor("infirmiere.pannes", Role.NURSE.value, "127.0.0.1")
TYPES = ("Patient", "Encounter", "Consent", "Observation", "DocumentReference")
# What else the cart may send (practitioners invited, the slot, the fiche): never twice either.
OTHER_TYPES = ("Practitioner", "Appointment", "Composition")


def jpeg(width: int = 160, height: int = 120, seed: int = 0, quality: int = 85) -> bytes:
    """A photo: noise (what a camera's JPEG compresses about as badly), `seed` makes each its own."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def pdf(approx_bytes: int = 4000, seed: int = 0) -> bytes:
    """A one-page PDF result of about `approx_bytes`: a line of text and an incompressible image."""
    rng = random.Random(seed)
    side = max(8, int((approx_bytes / 3.75) ** 0.5))  # 3 bytes a pixel, in ASCII85 (5 for 4) as reportlab writes it
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=1)
    canvas.drawString(72, 800, f"Résultat d'examen n° {seed}")
    canvas.drawImage(ImageReader(image), 72, 300, 300, 300)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def small_document(i: int) -> list[tuple[bytes, str, str]]:
    """One small photo or PDF per dossier, in turn: (bytes, name, kind)."""
    return [(jpeg(seed=i), f"plaie-{i}.jpg", "photo")] if i % 2 == 0 else [(pdf(seed=i), f"resultat-{i}.pdf", "resultat")]


@dataclass
class Made:
    """What the cart holds, by FHIR type: the cart's own ids (the values of the cart identifiers)."""

    ids: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TYPES})
    content_bytes: int = 0  # the documents' bytes

    def counts(self) -> dict[str, int]:
        return {t: len(v) for t, v in self.ids.items()}


def make_dossiers(data_dir: Path, count: int, vitals: int = 3, documents: Callable[[int], list[tuple[bytes, str, str]]] = small_document,
                  name: str = "PANNE") -> Made:
    """`count` residents, each with a teleconsultation now (its consent, `vitals` vitals and
    `documents(i)`), made by the domain functions on `data_dir`'s database, as the API makes them:
    each change and its outbox entry in one transaction."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = connect(data_dir / DATABASE_NAME)
    blobs = BlobStore(data_dir / "blobs")
    settings = settings_from(Config())
    made = Made()
    try:
        for i in range(count):  # one transaction per change, as one API call each makes them
            with transaction(db):
                resident = patients.create(db, patients.NewIdentity(f"{name}{i:05d}", ["Marcel"], date(1931, 11, 2), "M"), NURSE)
            with transaction(db):
                new = dossier.NewDossier(resident.id, True, None, "alone", None, SPECIALIST, None, confirm_overlap=True)
                consultation = dossier.create(db, new, NURSE, settings, datetime.now(UTC))
            measured = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            for kind, value in VITALS[:vitals]:
                with transaction(db):
                    made.ids["Observation"].add(str(fiche.add_vital(db, consultation.id, kind, value, measured, NURSE)))
            made.ids["Patient"].add(resident.id)
            made.ids["Encounter"].add(consultation.id)
            made.ids["Consent"].add(consultation.id)
            for content, file_name, kind in documents(i):
                found = inspect(content, max_bytes=32 * 1024 * 1024)
                blob = blobs.put(content)
                with transaction(db):
                    added = dossier_documents.add(db, consultation.id, blob, found, len(content), file_name, kind, NURSE)
                made.ids["DocumentReference"].add(added["id"])
                made.content_bytes += len(content)
    finally:
        db.close()
    return made
