"""A written prescription filed in its dossier: laid out as a signed read-only PDF
(agent/report/prescription.py), checked as any document is, added as an « ordonnance ». Written by
the specialist on their page (agent/api/routes/link_documents.py) or by the practice mode's
simulated specialist (agent/practice/specialist.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.audit import Actor
from agent.dossiers import documents, prescription
from agent.dossiers.intake.content import inspect
from agent.links.invitation import Settings
from agent.report.prescription import Medicine, render
from agent.store import Store
from agent.store.blobs import BlobStore
from agent.store.files import write_with_file


async def file_prescription(store: Store, blobs: BlobStore, settings: Settings, dossier_id: str, specialist: dict[str, Any],
                            medicines: list[Medicine], notes: str, signature_png: bytes, actor: Actor, signed_by: str) -> dict[str, Any]:
    """The new document as `documents.add` answers it; DossierRefused on a signed or cancelled dossier."""
    data = await store.read(prescription.prescription_data, dossier_id, settings, specialist, medicines, notes, signature_png)
    loop = asyncio.get_running_loop()
    pdf = await loop.run_in_executor(None, render, data)
    inspected = await loop.run_in_executor(None, lambda: inspect(pdf, max_bytes=len(pdf) + 1))
    name = f"Ordonnance {data.prescriber} {data.written_at[:10].replace('/', '-')}.pdf"
    return await write_with_file(store, blobs, pdf, lambda db, blob: documents.add(
        db, dossier_id, blob, inspected, len(pdf), name, "ordonnance", actor, signed_by=signed_by))
