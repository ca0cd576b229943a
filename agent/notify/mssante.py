"""A dossier's PDFs sent to a health professional's MSSanté address (secure health messaging;
seeds 000 §2.3.4.2, 001 §4.1.2 « Envoyer par MSS »).

MSSanté is SMTP over TLS (1.2 or later) to the structure's operator, the cart proving itself with
its (or the structure's) client certificate (`[mssante]`). One sending is one message about one
resident (Référentiel socle MSSanté #2, ECO.2.1.1), built as that reference and the IHE XDM
profile say as far as their public texts go:

- Subject `XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>` (ECO.2.1.3): the document's title
  (40 characters at most) or « N documents », the birth name in capitals and the first name
  without accents, the birth date.
- A text/plain part a person reads: the resident's identity, their INS (matricule and OID) when
  the identity is qualified and only then, the documents, the nurse's note, who sent it.
- Each PDF attached as it is (byte for byte), and the same PDFs in an IHE_XDM.ZIP (IHE ITI XDM:
  README.TXT, INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML and DOCnnnn.PDF) whose metadata carry the
  patient id: the INS with its OID (1.2.250.1.213.1.4.8 NIR, .9 NIA) when qualified, else the
  cart's local id.
- X-MSS-NIL (the product's reference) when `[mssante] product_reference` is set. X-MSS-INS and
  X-MSS-CODECDA are left out on purpose: the reference sets them only when the XDM archive holds a
  CDA document, and the cart sends PDFs, no CDA.

On the store thread: `enqueue_sending` checks and queues a sending in the caller's transaction (a
row in `mssante_messages` and a sealed delivery of channel "mssante" in agent/notify/queue.py), and
audits it; `messages_for` is what the dossier page shows. On the event loop: `MssanteSender.send`
makes one attempt, turning every failure into a French DeliveryError the queue retries.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import re
import socket
import ssl
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlite_utils import Database

from agent import __version__, audit, first_use
from agent.audit import Actor
from agent.clock import local_stamp
from agent.config import MssanteConfig
from agent.dossiers.directory import doctor_name
from agent.dossiers.documents import KINDS, pdf_of
from agent.dossiers.dossier import DossierRefused
from agent.identity import contacts
from agent.links.invitation import Settings
from agent.notify import DeliveryError, masked
from agent.notify import queue as deliveries
from agent.refusal import Refused
from agent.report.export import report_data
from agent.report.pdf import render
from agent.store.blobs import BlobNotFound, BlobStore

CHANNEL = PURPOSE = "mssante"
REPORT = "report"  # in a sending's list of documents: the dossier's report, made when the nurse sends
INS_NIR_OID, INS_NIA_OID = "1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9"
XDM_PREFIX = "XDM/1.0/DDM+"
NOT_CONFIGURED = ("La messagerie sécurisée de santé (MSSanté) n'est pas configurée sur ce chariot : rien ne peut être envoyé. "
                  "Le technicien renseigne la section [mssante] (serveur de l'opérateur, certificat du chariot, adresse MSSanté de l'établissement).")
NOT_CONFIGURED_SHORT = "Messagerie sécurisée non configurée sur le chariot ; l'envoi partira quand elle le sera"
REFUSED_TLS = ("Le serveur MSSanté a fermé la connexion sécurisée : certificat du chariot refusé (absent, expiré ou non reconnu) "
               "ou serveur indisponible ; nouvel essai plus tard")
DOCUMENT_GONE = "Un document de l'envoi n'est plus sur le chariot (télédossier supprimé) : refaites l'envoi"

# The document's type as LOINC where the French framework (CI-SIS) uses one for it; the others keep
# the cart's own kind (see docs/architecture.md: what is and is not done).
LOINC_TYPES = {"compte_rendu": ("11488-4", "Compte rendu de consultation"), "ordonnance": ("57833-6", "Prescription de produits de santé"),
               "resultat": ("11502-2", "CR d'examens biologiques")}


# --- configuration ------------------------------------------------------------------------------


def unconfigured_reason(config: MssanteConfig) -> str | None:
    """Why nothing can be sent (French, for the page), None when the section is complete."""
    if not (config.host and config.sender and config.client_certificate and config.client_key):
        return NOT_CONFIGURED
    return None


def tls_context(config: MssanteConfig) -> ssl.SSLContext:
    """TLS 1.2 or later, the operator's certificate checked (system authorities plus `ca_file`),
    the cart's certificate presented. OSError/ssl.SSLError when the files cannot be read."""
    context = ssl.create_default_context(cafile=config.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.client_certificate, config.client_key)
    return context


def check_address(config: MssanteConfig, address: str) -> str:
    """The address normalised, or Refused("mssante_address") with a French reason."""
    try:
        normalised = contacts.email(address.strip())
    except ValueError as exc:
        raise Refused("mssante_address", reason=f"Adresse MSSanté invalide : « {address.strip()[:80]} ».") from exc
    domain = normalised.rpartition("@")[2].lower()
    allowed = [d.lower().lstrip(".") for d in config.allowed_domains]
    if allowed and not any(domain == d or domain.endswith("." + d) for d in allowed):
        raise Refused("mssante_address", reason=(
            f"« {normalised} » n'est pas une adresse de messagerie sécurisée de santé (domaine attendu : {', '.join(allowed)}). "
            "Pour un destinataire sans MSSanté, utilisez « Envoyer au résident »."))
    return normalised


# --- directory ----------------------------------------------------------------------------------


def recipients(db: Database) -> list[dict[str, Any]]:
    """The active professionals of the directory who have an MSSanté address, by name."""
    rows = db.query("SELECT id, name, first_name, specialty, mssante FROM directory "
                    "WHERE active = 1 AND coalesce(mssante, '') != '' ORDER BY name, first_name")
    return [{"directory_id": r["id"], "display_name": doctor_name(r["name"], r["first_name"]), "specialty": r["specialty"],
             "address": r["mssante"]} for r in rows]


def set_directory_address(db: Database, professional_id: int, address: str | None, actor: Actor) -> bool:
    """Record (or clear, with None) a professional's MSSanté address; False when no such professional."""
    if db.execute("SELECT 1 FROM directory WHERE id = ?", [professional_id]).fetchone() is None:
        return False
    db.execute("UPDATE directory SET mssante = ?, updated_at = ? WHERE id = ?", [address, deliveries.iso(datetime.now(UTC).timestamp()),
                                                                                 professional_id])
    audit.append(db, actor.event("directory.update", detail=f"n° {professional_id} : adresse MSSanté"))
    return True


# --- queueing (store thread) --------------------------------------------------------------------


@dataclass(frozen=True)
class Sending:
    """What the nurse asked for."""

    recipient: str | None  # typed, checked by `check_address`
    directory_id: int | None
    document_ids: list[str]
    report: bool
    note: str


def _plain(text: str) -> str:
    """Without accents, as the subject's names are written (ECO.2.1.3)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _file_name(name: str, used: set[str]) -> str:
    stem = re.sub(r"[^\w.() -]+", "_", name).strip(" ._") or "document"
    stem = stem[:-4] if stem.lower().endswith(".pdf") else stem
    candidate, n = f"{stem[:80]}.pdf", 2
    while candidate.lower() in used:
        candidate, n = f"{stem[:76]} ({n}).pdf", n + 1
    used.add(candidate.lower())
    return candidate


def _patient(db: Database, patient_id: str) -> dict[str, Any]:
    row = db.execute("SELECT birth_name, used_name, first_names, birth_date, sex, identity_status, ins FROM patients WHERE id = ?",
                     [patient_id]).fetchone()
    birth_name, used_name, first_names, birth_date, sex, status, ins = row
    qualified = status == "QUAL" and bool(ins)
    return {"id": patient_id, "birth_name": birth_name, "used_name": used_name, "first_name": json.loads(first_names)[0],
            "birth_date": birth_date, "sex": sex, "status": status,
            "ins": ins if qualified else None, "ins_oid": (INS_NIA_OID if ins[0] in "78" else INS_NIR_OID) if qualified else None}


def subject_for(patient: dict[str, Any], titles: list[str]) -> str:
    label = _plain(titles[0])[:40].strip() if len(titles) == 1 else f"{len(titles)} documents"
    born = datetime.strptime(patient["birth_date"], "%Y-%m-%d").strftime("%d/%m/%Y")
    return f"{XDM_PREFIX}{label} {_plain(patient['birth_name']).upper()} {_plain(patient['first_name'])} {born}"


def enqueue_sending(db: Database, dossier_id: str, sending: Sending, actor: Actor, author: str, config: MssanteConfig,
                    settings: Settings) -> dict[str, Any]:
    """Check and queue one sending (its own row and a sealed delivery), audited. Any dossier, signed or
    not: the signed report is what is most often sent. Refused with a code of agent/api/errors.py."""
    if (reason := unconfigured_reason(config)) is not None:
        raise Refused("mssante_off", reason=reason)
    row = db.execute("SELECT patient_id FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
    if row is None:
        raise DossierRefused("not_found")
    patient_id = row[0]
    name = None
    if sending.directory_id is not None and not sending.recipient:
        found = db.execute("SELECT name, first_name, mssante FROM directory WHERE id = ? AND active = 1", [sending.directory_id]).fetchone()
        if found is None:
            raise Refused("specialist_unknown")
        if not found[2]:
            raise Refused("mssante_address", reason="Ce professionnel n'a pas d'adresse MSSanté dans l'annuaire : saisissez-la.")
        address, name = check_address(config, found[2]), doctor_name(found[0], found[1])
    elif sending.recipient:
        address = check_address(config, sending.recipient)
    else:
        raise Refused("mssante_address", reason="Choisissez un destinataire dans l'annuaire ou saisissez son adresse MSSanté.")
    if not sending.document_ids and not sending.report:
        raise Refused("mssante_nothing")

    used: set[str] = set()
    files: list[dict[str, Any]] = []
    shown: list[dict[str, str]] = []
    size = 0
    if sending.report:
        data = report_data(db, dossier_id, settings)
        pdf = render(data)  # type: ignore[arg-type]
        size += len(pdf)
        files.append({"name": _file_name("Compte rendu de téléconsultation", used), "title": "Compte rendu de téléconsultation",
                      "kind": "compte_rendu", "data": base64.b64encode(pdf).decode("ascii"), "created_at": deliveries.iso(datetime.now(UTC).timestamp())})
        shown.append({"id": REPORT, "name": "Compte rendu de téléconsultation"})
    for document_id in dict.fromkeys(sending.document_ids):
        pdf = pdf_of(db, dossier_id, document_id, lambda name: Refused("mssante_not_pdf", name=name))
        size += pdf.size
        files.append({"name": _file_name(pdf.name, used), "title": pdf.name, "kind": pdf.kind, "blob": pdf.blob, "created_at": pdf.added_at})
        shown.append({"id": document_id, "name": pdf.name})
    # Each PDF twice (attached, and in the XDM archive, which hardly compresses a PDF), in base64.
    encoded = size * 2 * 4 // 3 + 64 * 1024
    if encoded > config.max_message_mib * 1024 * 1024:
        raise Refused("mssante_too_large", size=f"{encoded / 1024 / 1024:.1f}".replace(".", ","), limit=config.max_message_mib)

    patient = _patient(db, patient_id)
    message_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    sender_domain = config.sender.rpartition("@")[2] or "telecart.invalid"
    payload = {
        "message_id": make_msgid(idstring=message_id[:8], domain=sender_domain), "subject": subject_for(patient, [f["title"] for f in files]),
        "recipient_name": name, "note": sending.note.strip(), "author": author, "establishment": settings.establishment,
        "sent_on": local_stamp(settings.zone, now), "submitted_at": now.strftime("%Y%m%d%H%M%S"),
        "patient": patient, "cart_id": db.execute("SELECT value FROM meta WHERE key = 'cart_id'").fetchone()[0], "files": files,
    }
    db["mssante_messages"].insert({
        "id": message_id, "dossier_id": dossier_id, "recipient": address, "recipient_name": name, "directory_id": sending.directory_id,
        "documents": json.dumps(shown, ensure_ascii=False), "created_by": actor.login, "created_at": deliveries.iso(now.timestamp()),
    })
    deliveries.enqueue(db, CHANNEL, address, None, json.dumps(payload, ensure_ascii=False), PURPOSE, message_id)
    audit.append(db, actor.event("mssante.send", patient_id, detail=(
        f"télédossier n° {dossier_id[:8]} : {len(files)} document(s) par MSSanté à {masked(address)}")))
    return {"id": message_id, "recipient": address}


def page_of(db: Database, dossier_id: str) -> dict[str, Any] | None:
    """What the dossier page shows (recipients, the dossier's PDFs, its sendings); None: no such dossier."""
    if db.execute("SELECT 1 FROM dossiers WHERE id = ?", [dossier_id]).fetchone() is None:
        return None
    pdfs = [{"id": r[0], "name": r[1]} for r in db.execute(
        "SELECT id, name FROM documents WHERE dossier_id = ? AND mime = 'application/pdf' ORDER BY added_at", [dossier_id])]
    return {"recipients": recipients(db), "documents": pdfs, "messages": messages_for(db, dossier_id)}


def messages_for(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    """The dossier's sendings, newest first, each with what became of its message."""
    rows = list(db.query("SELECT * FROM mssante_messages WHERE dossier_id = ? ORDER BY created_at DESC", [dossier_id]))
    statuses = deliveries.status_for(db, [r["id"] for r in rows])
    found = []
    for r in rows:
        status = (statuses.get(r["id"]) or [None])[-1]
        found.append({
            "id": r["id"], "recipient": r["recipient"], "recipient_name": r["recipient_name"], "documents": json.loads(r["documents"]),
            "created_by": r["created_by"], "created_at": r["created_at"],
            "state": status.state if status else "failed", "attempts": status.attempts if status else 0,
            "last_error": status.last_error if status else None, "sent_at": status.sent_at if status else None,
        })
    return found


# --- the message ----------------------------------------------------------------------------------


def _sex_label(sex: str) -> str:
    return {"F": "féminin", "M": "masculin"}.get(sex, "indéterminé")


def body_text(payload: dict[str, Any]) -> str:
    p = payload["patient"]
    born = datetime.strptime(p["birth_date"], "%Y-%m-%d").strftime("%d/%m/%Y")
    name = f"{p['birth_name'].upper()} {p['first_name']}"
    if p.get("used_name") and p["used_name"] != p["birth_name"]:
        name = f"{p['used_name'].upper()} {p['first_name']} (nom de naissance {p['birth_name'].upper()})"
    lines = [f"Bonjour{' ' + payload['recipient_name'] if payload.get('recipient_name') else ''},", ""]
    if payload.get("note"):
        lines += [payload["note"], ""]
    lines += [f"{payload['establishment']} vous transmet {'ce document' if len(payload['files']) == 1 else 'ces documents'} concernant :",
              f"  {name}, né(e) le {born}, sexe {_sex_label(p['sex'])}"]
    if p.get("ins"):
        kind = "NIA" if p["ins_oid"] == INS_NIA_OID else "NIR"
        lines.append(f"  INS (identité qualifiée) : matricule {p['ins']} ({kind}, OID {p['ins_oid']})")
    else:
        lines.append("  Identité non qualifiée : l'INS n'est pas transmis.")
    lines += ["", "Documents joints (PDF) :"]
    lines += [f"  - {f['title']} ({f['name']})" for f in payload["files"]]
    lines += ["", "Les mêmes documents et leurs métadonnées sont dans l'archive IHE_XDM.ZIP jointe.", "",
              f"Envoyé par {payload['author']}, {payload['establishment']}, le {payload['sent_on']},",
              "depuis le chariot de téléconsultation (Telecart). Cette boîte n'est pas relevée sur le chariot : "
              "pour répondre, écrivez à l'établissement."]
    return "\n".join(lines) + "\n"


def _oid_of(value: str) -> str:
    return f"2.25.{uuid.UUID(value).int}"


def _slot(name: str, *values: str) -> str:
    return f'<rim:Slot name="{name}"><rim:ValueList>' + "".join(f"<rim:Value>{escape(v)}</rim:Value>" for v in values) + "</rim:ValueList></rim:Slot>"


def _classification(scheme: str, obj: str, code: str, display: str, coding_scheme: str, n: list[int]) -> str:
    n[0] += 1
    return (f'<rim:Classification id="cl{n[0]:02d}" classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation={quoteattr(code)}>'
            + _slot("codingScheme", coding_scheme) + f'<rim:Name><rim:LocalizedString value={quoteattr(display)}/></rim:Name></rim:Classification>')


def _author(scheme: str, obj: str, payload: dict[str, Any], n: list[int]) -> str:
    n[0] += 1
    return (f'<rim:Classification id="cl{n[0]:02d}" classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation="">'
            + _slot("authorPerson", payload["author"]) + _slot("authorInstitution", payload["establishment"]) + "</rim:Classification>")


def _external(scheme: str, obj: str, value: str, name: str, n: list[int]) -> str:
    n[0] += 1
    return (f'<rim:ExternalIdentifier id="ei{n[0]:02d}" registryObject="{obj}" identificationScheme="{scheme}" value={quoteattr(value)}>'
            f'<rim:Name><rim:LocalizedString value="{name}"/></rim:Name></rim:ExternalIdentifier>')


def metadata_xml(payload: dict[str, Any], contents: list[bytes]) -> str:
    """The XDM submission set's METADATA.XML (ebRIM 3.0, IHE XDS metadata): one DocumentEntry per PDF."""
    p = payload["patient"]
    cart_oid = _oid_of(payload["cart_id"])
    patient_id = f"{p['ins']}^^^&{p['ins_oid']}&ISO^NH" if p.get("ins") else f"{p['id']}^^^&{cart_oid}&ISO^PI"
    born = p["birth_date"].replace("-", "")
    source_info = [f"PID-3|{patient_id}", f"PID-5|{p['birth_name'].upper()}^{p['first_name']}^^^^^L", f"PID-7|{born}",
                   f"PID-8|{p['sex'] if p['sex'] in 'FM' else 'U'}"]
    n = [0]
    objects = []
    for i, (f, data) in enumerate(zip(payload["files"], contents, strict=True), start=1):
        doc = f"Document{i:02d}"
        created = f["created_at"].replace("-", "").replace(":", "").replace("T", "")[:14]
        type_code, type_display, type_scheme = (*LOINC_TYPES[f["kind"]], "2.16.840.1.113883.6.1") if f["kind"] in LOINC_TYPES \
            else (f["kind"], KINDS.get(f["kind"], "Document"), "urn:telecart:kind")
        objects.append(
            f'<rim:ExtrinsicObject id="{doc}" mimeType="application/pdf" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
            + _slot("creationTime", created) + _slot("languageCode", "fr-FR") + _slot("hash", hashlib.sha1(data).hexdigest())  # noqa: S324 (XDS says SHA-1)
            + _slot("size", str(len(data))) + _slot("URI", f"DOC{i:04d}.PDF") + _slot("sourcePatientId", patient_id)
            + _slot("sourcePatientInfo", *source_info)
            + f'<rim:Name><rim:LocalizedString value={quoteattr(f["title"])}/></rim:Name>'
            + _author("urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d", doc, payload, n)
            + _classification("urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", doc, type_code, type_display, type_scheme, n)
            + _classification("urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", doc, "N", "Normal", "2.16.840.1.113883.5.25", n)
            + _classification("urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", doc, "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                              "Type MIME suffisant", "1.3.6.1.4.1.19376.1.2.3", n)
            + _classification("urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", doc, "EHPAD", "EHPAD", "urn:telecart:facility", n)
            + _classification("urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", doc, "TELEMEDECINE", "Télémédecine", "urn:telecart:practice", n)
            + _classification("urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", doc, type_code, type_display, type_scheme, n)
            + _external("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", doc, patient_id, "XDSDocumentEntry.patientId", n)
            + _external("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", doc, _oid_of(str(uuid.uuid4())), "XDSDocumentEntry.uniqueId", n)
            + "</rim:ExtrinsicObject>")
    ss = "SubmissionSet01"
    submission = (
        f'<rim:RegistryPackage id="{ss}">' + _slot("submissionTime", payload["submitted_at"])
        + f'<rim:Name><rim:LocalizedString value={quoteattr(payload["subject"].removeprefix(XDM_PREFIX))}/></rim:Name>'
        + _author("urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d", ss, payload, n)
        + _classification("urn:uuid:aa543740-bdda-424e-8c96-df4873be8500", ss, "TELECONSULTATION", "Téléconsultation", "urn:telecart:content", n)
        + _external("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", ss, _oid_of(str(uuid.uuid4())), "XDSSubmissionSet.uniqueId", n)
        + _external("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", ss, cart_oid, "XDSSubmissionSet.sourceId", n)
        + _external("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446", ss, patient_id, "XDSSubmissionSet.patientId", n)
        + "</rim:RegistryPackage>"
        + f'<rim:Classification id="clSS" classifiedObject="{ss}" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>')
    members = "".join(
        f'<rim:Association id="as{i:02d}" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" '
        f'sourceObject="{ss}" targetObject="Document{i:02d}">' + _slot("SubmissionSetStatus", "Original") + "</rim:Association>"
        for i in range(1, len(contents) + 1))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
            'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>'
            + submission + "".join(objects) + members + "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>\n")


def xdm_zip(payload: dict[str, Any], contents: list[bytes]) -> bytes:
    """IHE_XDM.ZIP: README.TXT and INDEX.HTM at the root, the submission set under IHE_XDM/SUBSET01/."""
    readme = (f"Archive IHE XDM créée par Telecart {__version__} (chariot de téléconsultation)\r\n"
              f"Établissement émetteur : {payload['establishment']}\r\n"
              f"Envoyée par : {payload['author']}, le {payload['sent_on']}\r\n"
              "Contenu : IHE_XDM/SUBSET01/METADATA.XML et les documents PDF DOCnnnn.PDF.\r\n")
    links = "".join(f'<li><a href="IHE_XDM/SUBSET01/DOC{i:04d}.PDF">{escape(f["title"])}</a></li>'
                    for i, f in enumerate(payload["files"], start=1))
    index = (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Documents</title></head><body>'
             f"<h1>{escape(payload['establishment'])}</h1><ul>{links}</ul><p><a href=\"README.TXT\">README.TXT</a></p></body></html>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.TXT", readme.encode("utf-8"))
        archive.writestr("INDEX.HTM", index.encode("utf-8"))
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata_xml(payload, contents).encode("utf-8"))
        for i, data in enumerate(contents, start=1):
            archive.writestr(f"IHE_XDM/SUBSET01/DOC{i:04d}.PDF", data)
    return buffer.getvalue()


def build_message(config: MssanteConfig, recipient: str, payload: dict[str, Any], contents: list[bytes]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((f"{payload['establishment']} - chariot de téléconsultation", config.sender))
    message["To"] = formataddr((payload.get("recipient_name") or "", recipient))
    message["Subject"] = payload["subject"]
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = payload["message_id"]  # the same on every attempt: a message that did arrive twice is one
    if config.product_reference:
        message["X-MSS-NIL"] = config.product_reference
    message.set_content(body_text(payload), charset="utf-8", cte="quoted-printable")
    for f, data in zip(payload["files"], contents, strict=True):
        message.add_attachment(data, maintype="application", subtype="pdf", filename=f["name"])
    message.add_attachment(xdm_zip(payload, contents), maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    return message


# --- sending (event loop) -----------------------------------------------------------------------


class MssanteSender:
    """The queue's sender for channel "mssante" (agent/notify/queue.py Dispatcher `senders`)."""

    def __init__(self, config: MssanteConfig, blobs: BlobStore) -> None:
        self.config = config
        self.blobs = blobs
        self.timeout_seconds = config.timeout_seconds

    def _contents(self, payload: dict[str, Any]) -> list[bytes]:
        try:
            return [base64.b64decode(f["data"]) if "data" in f else self.blobs.get(f["blob"]) for f in payload["files"]]
        except BlobNotFound as exc:
            raise DeliveryError(DOCUMENT_GONE, permanent=True) from exc

    async def send(self, delivery: deliveries.Delivery) -> None:
        config = self.config
        if unconfigured_reason(config) is not None:
            raise DeliveryError(NOT_CONFIGURED_SHORT, permanent=False)
        await first_use.load("aiosmtplib")  # with the first message, not the agent's start
        import aiosmtplib

        payload = json.loads(delivery.body)
        loop = asyncio.get_running_loop()
        contents = await loop.run_in_executor(None, self._contents, payload)
        message = await loop.run_in_executor(None, build_message, config, delivery.recipient, payload, contents)
        try:
            context = await loop.run_in_executor(None, tls_context, config)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise DeliveryError("Certificat ou clé du chariot pour MSSanté illisible (fichiers de [mssante]) : "
                                "le technicien doit les vérifier ; nouvel essai plus tard", permanent=False) from exc
        try:
            async with asyncio.timeout(config.timeout_seconds):
                await aiosmtplib.send(
                    message, hostname=config.host, port=config.port, use_tls=config.security == "tls",
                    start_tls=config.security == "starttls", tls_context=context, timeout=config.timeout_seconds,
                    local_hostname=socket.gethostname() or "telecart",  # no DNS lookup for the EHLO name
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients] or [550]
            if all(500 <= c < 600 for c in codes):
                raise DeliveryError(f"Adresse refusée par l'opérateur MSSanté ({codes[0]}) : vérifiez-la dans l'annuaire santé", permanent=True) from exc
            raise DeliveryError(f"Adresse momentanément refusée par l'opérateur MSSanté ({codes[0]})", permanent=False) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise DeliveryError(f"L'opérateur MSSanté refuse l'adresse d'expédition du chariot ({exc.code}) : vérifiez [mssante] sender",
                                permanent=False) from exc
        except aiosmtplib.SMTPDataError as exc:
            if 500 <= exc.code < 600:
                raise DeliveryError(f"Message refusé par l'opérateur MSSanté ({exc.code})", permanent=True) from exc
            raise DeliveryError(f"Message momentanément refusé par l'opérateur MSSanté ({exc.code})", permanent=False) from exc
        except TimeoutError as exc:
            raise DeliveryError("Le serveur MSSanté ne répond pas (délai dépassé) ; nouvel essai plus tard", permanent=False) from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError("Certificat du serveur MSSanté non reconnu par le chariot ([mssante] ca_file) ; nouvel essai plus tard",
                                permanent=False) from exc
        except ssl.SSLError as exc:
            raise DeliveryError(REFUSED_TLS, permanent=False) from exc
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected) as exc:
            cause = exc.__cause__
            if isinstance(cause, ConnectionRefusedError):
                raise DeliveryError("Serveur MSSanté injoignable (connexion refusée) ; nouvel essai plus tard", permanent=False) from exc
            if isinstance(cause, socket.gaierror):
                raise DeliveryError("Serveur MSSanté injoignable (nom inconnu ou réseau absent) ; nouvel essai plus tard", permanent=False) from exc
            if isinstance(cause, ssl.SSLCertVerificationError):
                raise DeliveryError("Certificat du serveur MSSanté non reconnu par le chariot ([mssante] ca_file) ; nouvel essai plus tard",
                                    permanent=False) from exc
            # With TLS 1.3 a refused client certificate shows only as the server closing the connection.
            raise DeliveryError(REFUSED_TLS, permanent=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"Le serveur MSSanté a répondu par une erreur ({exc.code}) ; nouvel essai plus tard", permanent=False) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError("Serveur MSSanté injoignable ; nouvel essai plus tard", permanent=False) from exc
