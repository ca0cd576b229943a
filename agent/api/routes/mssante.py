"""A dossier's PDFs sent to a health professional's MSSanté address (agent/notify/mssante.py):
what the page shows (configured or not, the directory's MSSanté addresses, the dossier's sendings
and their states), the sending itself, and a professional's address kept in the directory."""

from __future__ import annotations

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.mssante import DirectoryMssanteIn, MssanteSendIn, MssanteSendOut, MssanteStateOut
from agent.notify import mssante


@API.route("GET", "/dossiers/{id}/mssante", summary="Messagerie sécurisée (MSSanté) : destinataires de l'annuaire et envois du télédossier",
           tags=("mssante",), access=Permission.HEALTH_READ, response=MssanteStateOut)
async def mssante_state(call: Call) -> MssanteStateOut:
    services = services_of(call.request)
    config = services.config.mssante
    dossier_id = call.request.match_info["id"]

    found = await services.store.read(mssante.page_of, dossier_id)
    if found is None:
        raise ApiError("not_found")
    notice = mssante.unconfigured_reason(config)
    return MssanteStateOut(configured=notice is None, notice=notice, sender=config.sender or None, **found)


@API.route("POST", "/dossiers/{id}/mssante", summary="Envoyer des PDF du télédossier par messagerie sécurisée de santé (MSSanté)",
           tags=("mssante",), access=Permission.HEALTH_WRITE, body=MssanteSendIn, response=MssanteSendOut, status=201, errors=(409, 413))
async def mssante_send(call: Call) -> MssanteSendOut:
    services = services_of(call.request)
    body: MssanteSendIn = call.body
    sending = mssante.Sending(recipient=body.recipient or None, directory_id=body.directory_id, document_ids=body.documents,
                              report=body.report, note=body.note)
    queued = await services.store.write(mssante.enqueue_sending, call.request.match_info["id"], sending, call.actor,
                                        call.session.principal.display_name, services.config.mssante, services.dossier_settings)
    services.deliveries_wake()
    return MssanteSendOut(**queued)


@API.route("PUT", "/directory/{id}/mssante", summary="Enregistrer (ou effacer) l'adresse MSSanté d'un professionnel de l'annuaire",
           tags=("mssante", "directory"), access=Permission.DIRECTORY_MANAGE, body=DirectoryMssanteIn, status=204)
async def directory_mssante(call: Call) -> None:
    services = services_of(call.request)
    raw = call.request.match_info["id"]
    if not raw.isdigit():
        raise ApiError("not_found")
    address = mssante.check_address(services.config.mssante, call.body.address) if call.body.address else None
    if not await services.store.write(mssante.set_directory_address, int(raw), address, call.actor):
        raise ApiError("not_found")
