"""The sync with the regional server as a technician reads it, in French with local times: where
it sends, how the cart proves itself (never a secret), what waits, what was sent, what a person
must look at, and each item with its tries and last error. `telecart sync status` prints it; the
support bundle holds it; the technician's page shows the same items."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent.config import Config
from cloud_sync import queue, smart_auth

COUNTED = (("sent", "envoyées"), ("conflict", "en conflit (à voir)"), ("refused", "refusées (à voir)"), ("local", "gardées sur le chariot"))
LISTED = (("à voir par une personne", (queue.CONFLICT, queue.REFUSED)), ("en attente", (queue.PENDING,)))


def local_time(stamp: str, zone: ZoneInfo) -> str:
    """An ISO instant as a technician reads it: 06/12/2026 12:06:23 in the cart's time zone."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def auth_words(config: Config, db: Database) -> str:
    """Which authentication the sync uses, in words, without a secret."""
    sync = config.sync
    said = {"none": "aucune", "bearer": "jeton fixe ([sync] bearer_token)"}.get(sync.auth, "")
    if sync.auth == "smart":
        try:
            key = smart_auth.read_key(config.storage.data_dir)
            held = f"clé {key.kid}" if key else "pas de clé : lancez « telecart sync enrol »"
        except smart_auth.AuthError as error:
            held = str(error)
        said = f"SMART Backend Services, client « {sync.client_id or queue.cart_id(db)} », {held}"
    if sync.client_certificate:
        said += f" ; TLS mutuel, certificat {sync.client_certificate}"
    return said + (f" ; autorité du serveur {sync.ca_file}" if sync.ca_file else "")


def item_line(item: dict, zone: ZoneInfo) -> str:
    dossier = f", télédossier n° {item['dossier_id'][:8]}" if item["dossier_id"] else ""
    return (f"n° {item['id']} {item['label']} ({item['operation_label']}{dossier}) du {local_time(item['at'], zone)} : "
            f"{item['state_label']}, {item['attempts']} essai(s)" + (f", {item['last_error']}" if item["last_error"] else ""))


def report(db: Database, config: Config, limit: int = 50) -> list[str]:
    state = queue.status(db)
    zone = ZoneInfo(config.dossiers.timezone)
    lines = [f"serveur : {config.sync.fhir_base_url or 'aucun serveur régional configuré ([sync] fhir_base_url)'}",
             f"authentification : {auth_words(config, db)}",
             f"en attente d'envoi : {state['pending']}" + (f" (la plus ancienne du {local_time(state['oldest'], zone)})" if state["oldest"] else "")]
    lines += [f"{label} : {state['counts'][name]}" for name, label in COUNTED if state["counts"].get(name)]
    if state["error"]:
        when = local_time(state["next_try_at"], zone) if state["next_try_at"] else "bientôt"
        lines.append(f"dernière erreur : {state['error']} ({state['attempts']} essai(s), prochain à {when})")
    for title, states in LISTED:
        listed = queue.items(db, states, limit=limit)
        if listed:
            lines += ["", f"{title} :"] + [f"  {item_line(item, zone)}" for item in listed]
    return lines
