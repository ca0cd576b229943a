"""One module per domain; importing this package registers every route on `API`
(agent/api/registry.py)."""

from agent.api.registry import API
from agent.api.routes import (
    accounts,
    agenda,
    audit_trail,
    call,
    card,
    directory,
    documents,
    dossiers,
    expertise,
    fiche,
    link,
    link_documents,
    mssante,
    patients,
    practice,
    printing,
    psc,
    sensors,
    session,
    sync,
    system,
    technician,
    technician_settings,
)

ROUTE_MODULES = (accounts, audit_trail, call, card, directory, documents, dossiers, expertise, fiche, link, link_documents, patients, psc, sensors, session, sync, system,
                 technician, technician_settings, mssante, printing, agenda, practice)

__all__ = ["API", "ROUTE_MODULES"]
