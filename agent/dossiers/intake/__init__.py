"""Uploaded documents: what a file really is (`content`), and a staff member's signature stamped
on a PDF (`stamp`). Both are pure functions on bytes; storing and serving are the caller's job."""

from agent.dossiers.intake.content import (
    Inspected,
    RejectedDocument,
    inspect,
    suggested_extension,
)
from agent.dossiers.intake.stamp import prepare_signature, stamp

__all__ = ["Inspected", "RejectedDocument", "inspect", "prepare_signature", "stamp", "suggested_extension"]
