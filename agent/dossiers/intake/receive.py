"""The one way a file enters a dossier: the kiosk's upload, a participant's upload during the
call and the call's snapshot all come through `receive`."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.audit import Actor
from agent.dossiers import documents
from agent.dossiers.intake.content import inspect, suggested_extension
from agent.store import Store
from agent.store.blobs import BlobStore
from agent.store.files import write_with_file

# Decoding a 40-megapixel image holds about 90 MB: two at a time, the others wait their turn.
DECODES = asyncio.Semaphore(2)


async def receive(store: Store, blobs: BlobStore, dossier_id: str, data: bytes, stem: str, kind: str, actor: Actor,
                  max_bytes: int) -> dict[str, Any]:
    """Check what the bytes really are (off the event loop: a hostile PDF takes CPU), keep them in
    the blob store before their row (agent/store/files.py: the disk's reserve checked first, no
    file left behind when the row is refused), and name them with the extension of what they are, whatever
    the sender called them. RejectedDocument when the content is refused; nothing is saved then."""
    loop = asyncio.get_running_loop()
    async with DECODES:
        inspected = await loop.run_in_executor(None, lambda: inspect(data, max_bytes=max_bytes))
    name = stem + suggested_extension(inspected.kind)
    return await write_with_file(store, blobs, data,
                                 lambda db, blob: documents.add(db, dossier_id, blob, inspected, len(data), name, kind, actor))
