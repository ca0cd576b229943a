"""MSSanté sending against a real operator on loopback: an SMTP server (aiosmtpd) that requires a
client certificate from its authority, in implicit TLS and in STARTTLS. The message arrives built
as the MSSanté client reference says (structured subject, INS with its OID when qualified, PDFs
byte for byte, IHE_XDM.ZIP); a rogue or missing certificate leaves it queued with a French error,
and it goes once the cart's certificate is right. Retries come due by moving a clock, not by sleeping."""

from __future__ import annotations

import hashlib
import io
import ssl
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import aiosmtplib
import pytest

from agent.audit import Actor
from agent.config import MailConfig, MssanteConfig, SmsConfig
from agent.dossiers import directory, documents, dossier, retention
from agent.dossiers.dossier import NewDossier
from agent.dossiers.intake.content import Inspected
from agent.identity import patients
from agent.identity.ins import key_of
from agent.links.invitation import Settings
from agent.notify import mssante
from agent.notify.queue import SCRUBBED_BODY, Dispatcher
from agent.refusal import Refused
from agent.store import Store
from agent.store.blobs import BlobStore
from tests.documents import samples
from tests.notify.mssante_server import CART_CN, OperatorInbox, Pki, make_pki, operator
from tests.notify.servers import Clock, free_port, opened_store, run_async

NURSE = Actor("ide.martin", "nurse")
SETTINGS = Settings(establishment="EHPAD Les Tilleuls", zone=__import__("zoneinfo").ZoneInfo("Europe/Paris"),
                    public_url="https://chariot.example", opens_before_minutes=15, stays_open_minutes=45)
SPECIALIST = {"name": "PETIT", "first_name": "Claire", "specialty": "Dermatologie", "email": "claire.petit@chu.example",
              "mobile": "+33612345601"}
PDF = Inspected(kind="pdf", mime="application/pdf", pages=1)  # type: ignore[arg-type]
JPEG = Inspected(kind="jpeg", mime="image/jpeg", pages=None, width=10, height=10)  # type: ignore[arg-type]
INS_NUMBER = "2840763220013"
INS = INS_NUMBER + key_of(INS_NUMBER)
DOCTOR = "dr.lefevre@chu-tours.mssante.fr"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _with(config: MssanteConfig, **changes: Any) -> MssanteConfig:
    return config.model_copy(update=changes)


def configured(pki: Pki, port: int, security: str = "tls", **extra: Any) -> MssanteConfig:
    values: dict[str, Any] = {"host": "localhost", "port": port, "security": security, "client_certificate": str(pki.cart_cert),
                              "client_key": str(pki.cart_key), "ca_file": str(pki.ca), "sender": "chariot.tilleuls@ehpad-tilleuls.mssante.fr",
                              "product_reference": "TELECART-TEST-001", "timeout_seconds": 5}
    return MssanteConfig(**(values | extra))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def prepare(data_dir: Path, qualified: bool = True) -> dict[str, Any]:
    """A resident (qualified identity with an INS, or provisional), a dossier, two PDFs and a photo."""
    async def scenario() -> dict[str, Any]:
        async with opened_store(data_dir) as store:
            blobs = BlobStore(data_dir / "blobs")
            identity = patients.NewIdentity("DUPRÉ", ["Jeanne", "Marie"], date(1984, 7, 3), "F", used_name="MARTIN",
                                            identity_status="QUAL" if qualified else "PROV", ins=INS if qualified else None,
                                            birth_insee="63220" if qualified else None)
            resident = await store.write(patients.create, identity, NURSE)
            made = await store.write(dossier.create, NewDossier(resident.id, True, None, "alone", None, SPECIALIST, None, confirm_overlap=True),
                                     NURSE, SETTINGS, datetime.now(UTC))
            pdfs = {"ordonnance": samples.pdf(["Ordonnance", "Pansement hydrocolloïde"]), "resultat": samples.pdf(["Résultats", "CRP 3 mg/L"])}
            ids = {}
            for kind, data in pdfs.items():
                blob = blobs.put(data)
                ids[kind] = (await store.write(documents.add, made.id, blob, PDF, len(data), f"{kind.capitalize()} Mme Martin.pdf", kind, NURSE))["id"]
            await store.write(lambda db: db.execute("DELETE FROM deliveries"))  # the invitation's email and SMS: not what is tested
            photo = blobs.put(b"\xff\xd8\xff\xe0 not really a jpeg")
            ids["photo"] = (await store.write(documents.add, made.id, photo, JPEG, 20, "plaie.jpg", "photo", NURSE))["id"]
            return {"dossier": made.id, "patient": resident.id, "ids": ids, "pdfs": pdfs}
    return run_async(scenario())


def queue_one(store: Store, config: MssanteConfig, made: dict[str, Any], **sending: Any) -> dict[str, Any]:
    wanted = {"recipient": DOCTOR, "directory_id": None, "document_ids": [made["ids"]["ordonnance"], made["ids"]["resultat"]],
              "report": True, "note": "Bonjour Docteur, voici le compte rendu et l'ordonnance de Mme Martin."} | sending
    return store.write(mssante.enqueue_sending, made["dossier"], mssante.Sending(**wanted), NURSE, "Infirmière Martin", config, SETTINGS)


def dispatcher(store: Store, config: MssanteConfig, data_dir: Path, clock: Clock) -> Dispatcher:
    return Dispatcher(store, MailConfig(), SmsConfig(), None, clock=clock,  # type: ignore[arg-type]
                      senders={"mssante": mssante.MssanteSender(config, BlobStore(data_dir / "blobs"))})


def delivery_row(store: Store) -> Any:
    return store.read(lambda db: db.execute("SELECT state, attempts, last_error, body FROM deliveries WHERE purpose = 'mssante'").fetchone())


def attachments(message: Any) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_the_message_arrives_structured_with_byte_identical_pdfs(pki: Pki, data_dir: Path, mode: str) -> None:
    made = prepare(data_dir)
    inbox = OperatorInbox()
    with operator(pki, mode, inbox) as port:
        config = configured(pki, port, mode)

        async def scenario() -> tuple[Any, Any, list[dict[str, Any]], list[Any]]:
            async with opened_store(data_dir) as store:
                queued = await queue_one(store, config, made)
                assert await dispatcher(store, config, data_dir, Clock()).drain() == 1
                messages = await store.read(mssante.messages_for, made["dossier"])
                audit = await store.read(lambda db: list(db.query("SELECT action, patient_id, detail FROM audit WHERE action = 'mssante.send'")))
                return queued, await delivery_row(store), messages, audit
        queued, row, messages, audit = run_async(scenario())

    assert queued["recipient"] == DOCTOR
    [received] = inbox.received
    assert inbox.peers == [CART_CN]  # the operator saw the cart's certificate
    assert (received.sender, received.recipients) == ("chariot.tilleuls@ehpad-tilleuls.mssante.fr", [DOCTOR])
    message = received.message
    # ECO.2.1.3: XDM/1.0/DDM+<libellé> <NOM de naissance> <prénom> <date de naissance>, without accents.
    assert message["Subject"] == "XDM/1.0/DDM+3 documents DUPRE Jeanne 03/07/1984"
    assert message["X-MSS-NIL"] == "TELECART-TEST-001"
    assert message["X-MSS-INS"] is None and message["X-MSS-CODECDA"] is None  # no CDA in the archive: not set
    assert "EHPAD Les Tilleuls" in message["From"] and message["To"] == DOCTOR
    assert message["Message-ID"].endswith("@ehpad-tilleuls.mssante.fr>")
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Docteur, voici le compte rendu" in text
    assert f"matricule {INS} (NIR, OID 1.2.250.1.213.1.4.8)" in text
    assert "MARTIN Jeanne (nom de naissance DUPRÉ), né(e) le 03/07/1984" in text
    files = attachments(message)
    assert sorted(files) == ["Compte rendu de téléconsultation.pdf", "IHE_XDM.ZIP", "Ordonnance Mme Martin.pdf", "Resultat Mme Martin.pdf"]
    assert files["Ordonnance Mme Martin.pdf"] == made["pdfs"]["ordonnance"]
    assert files["Resultat Mme Martin.pdf"] == made["pdfs"]["resultat"]
    assert files["Compte rendu de téléconsultation.pdf"].startswith(b"%PDF")

    archive = zipfile.ZipFile(io.BytesIO(files["IHE_XDM.ZIP"]))
    assert sorted(archive.namelist()) == ["IHE_XDM/SUBSET01/DOC0001.PDF", "IHE_XDM/SUBSET01/DOC0002.PDF", "IHE_XDM/SUBSET01/DOC0003.PDF",
                                          "IHE_XDM/SUBSET01/METADATA.XML", "INDEX.HTM", "README.TXT"]
    assert archive.read("IHE_XDM/SUBSET01/DOC0002.PDF") == made["pdfs"]["ordonnance"]
    assert archive.read("IHE_XDM/SUBSET01/DOC0001.PDF") == files["Compte rendu de téléconsultation.pdf"]
    rim = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
    metadata = ElementTree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    entries = metadata.findall(f".//{rim}ExtrinsicObject")
    assert [e.get("mimeType") for e in entries] == ["application/pdf"] * 3
    ids = {x.get("value") for x in metadata.iter(f"{rim}ExternalIdentifier") if x.get("identificationScheme") in (
        "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446")}
    assert ids == {f"{INS}^^^&1.2.250.1.213.1.4.8&ISO^NH"}

    def slot(entry: Any, name: str) -> str:
        return next(s for s in entry.iter(f"{rim}Slot") if s.get("name") == name).find(f".//{rim}Value").text  # type: ignore[union-attr]
    assert slot(entries[1], "hash") == hashlib.sha1(made["pdfs"]["ordonnance"]).hexdigest()  # noqa: S324
    assert slot(entries[1], "size") == str(len(made["pdfs"]["ordonnance"]))
    assert len(metadata.findall(f".//{rim}Association")) == 3

    state, attempts, last_error, body = row
    assert (state, attempts, last_error, body) == ("sent", 1, None, SCRUBBED_BODY)  # the body does not stay once sent
    [shown] = messages
    assert (shown["state"], shown["recipient"], [d["name"] for d in shown["documents"]]) == (
        "sent", DOCTOR, ["Compte rendu de téléconsultation", "Ordonnance Mme Martin.pdf", "Resultat Mme Martin.pdf"])
    [(action, patient_id, detail)] = [tuple(a.values()) for a in audit]
    assert patient_id == made["patient"] and "3 document(s) par MSSanté à d•••@chu-tours.mssante.fr" in detail


def test_an_unqualified_identity_sends_no_ins(pki: Pki, data_dir: Path) -> None:
    made = prepare(data_dir, qualified=False)
    inbox = OperatorInbox()
    with operator(pki, "starttls", inbox) as port:
        config = configured(pki, port, "starttls", product_reference="")

        async def scenario() -> None:
            async with opened_store(data_dir) as store:
                await queue_one(store, config, made, document_ids=[made["ids"]["ordonnance"]], report=False, note="")
                await dispatcher(store, config, data_dir, Clock()).drain()
        run_async(scenario())
    [received] = inbox.received
    message = received.message
    assert message["Subject"] == "XDM/1.0/DDM+Ordonnance Mme Martin.pdf DUPRE Jeanne 03/07/1984"
    assert message["X-MSS-NIL"] is None  # no product reference configured: left out
    text = message.get_body(("plain",)).get_content()
    assert "Identité non qualifiée : l'INS n'est pas transmis." in text and INS not in text
    metadata = zipfile.ZipFile(io.BytesIO(attachments(message)["IHE_XDM.ZIP"])).read("IHE_XDM/SUBSET01/METADATA.XML").decode()
    assert INS not in metadata
    assert f"{made['patient']}^^^&amp;2.25." in metadata and "&amp;ISO^PI" in metadata  # the cart's own id for the resident


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_a_rogue_or_missing_certificate_keeps_the_message_queued_until_the_right_one(pki: Pki, data_dir: Path, mode: str) -> None:
    made = prepare(data_dir)
    inbox = OperatorInbox()
    clock = Clock()
    with operator(pki, mode, inbox) as port:
        good = configured(pki, port, mode)
        rogue = _with(good, client_certificate=str(pki.rogue_cert), client_key=str(pki.rogue_key))
        missing = _with(good, client_certificate=str(pki.cart_cert.with_name("absent.pem")))

        async def scenario() -> list[Any]:
            seen = []
            async with opened_store(data_dir) as store:
                await queue_one(store, good, made)
                for config in (rogue, missing):
                    await dispatcher(store, config, data_dir, clock).drain()
                    seen.append(await delivery_row(store))
                    seen.append((await store.read(mssante.messages_for, made["dossier"]))[0])
                    clock.advance(3600)
                await dispatcher(store, good, data_dir, clock).drain()
                seen.append(await delivery_row(store))
            return seen
        after_rogue, shown_rogue, after_missing, shown_missing, after_fix = run_async(scenario())

    state, attempts, error, body = after_rogue
    assert (state, attempts, error) == ("pending", 1, mssante.REFUSED_TLS)
    assert body.startswith("sealed:v1:")  # waiting, sealed under the cart's key
    assert (shown_rogue["state"], shown_rogue["last_error"]) == ("pending", mssante.REFUSED_TLS)
    state, attempts, error, _ = after_missing
    assert (state, attempts) == ("pending", 2) and error.startswith("Certificat ou clé du chariot pour MSSanté illisible")
    assert shown_missing["last_error"] == error
    assert after_fix[:3] == ("sent", 3, None)
    [received] = inbox.received  # nothing lost, nothing twice
    assert inbox.peers == [CART_CN]
    assert attachments(received.message)["Ordonnance Mme Martin.pdf"] == made["pdfs"]["ordonnance"]


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_the_operator_refuses_a_client_without_certificate(pki: Pki, mode: str) -> None:
    """The loopback operator really requires the certificate: without one nothing gets through."""
    inbox = OperatorInbox()
    context = ssl.create_default_context(cafile=str(pki.ca))
    with operator(pki, mode, inbox) as port:
        async def scenario() -> None:
            await aiosmtplib.send("Subject: test\r\n\r\nbonjour\r\n", sender="a@ehpad.mssante.fr", recipients=[DOCTOR],
                                  hostname="localhost", port=port, use_tls=mode == "tls", start_tls=mode == "starttls",
                                  tls_context=context, timeout=5)
        with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError, OSError)):
            run_async(scenario())
    assert inbox.received == []


def test_what_is_refused_before_anything_is_queued(pki: Pki, data_dir: Path) -> None:
    made = prepare(data_dir)
    config = configured(pki, free_port())

    async def refusals() -> dict[str, str]:
        found = {}
        async with opened_store(data_dir) as store:
            for label, cfg, sending in (
                ("unconfigured", MssanteConfig(), {}),
                ("gmail", config, {"recipient": "dr.lefevre@gmail.com"}),
                ("typo", config, {"recipient": "dr.lefevre@@chu.mssante.fr"}),
                ("photo", config, {"document_ids": [made["ids"]["photo"]]}),
                ("nothing", config, {"document_ids": [], "report": False}),
                ("nobody", config, {"recipient": None}),
                ("too large", _with(config, max_message_mib=1), {"document_ids": [made["ids"]["ordonnance"]] * 1}),
            ):
                if label == "too large":
                    await store.write(lambda db: db.execute("UPDATE documents SET size = 900000"))
                try:
                    await queue_one(store, cfg, made, **sending)
                except Refused as refused:
                    found[label] = refused.code + ":" + str(refused.params.get("reason", refused.params.get("name", "")))
            found["queued"] = str(await store.read(lambda db: db.execute("SELECT count(*) FROM deliveries").fetchone()[0]))
        return found
    found = run_async(refusals())
    assert found["unconfigured"].startswith("mssante_off:La messagerie sécurisée de santé (MSSanté) n'est pas configurée")
    assert found["gmail"].startswith("mssante_address:« dr.lefevre@gmail.com » n'est pas une adresse de messagerie sécurisée")
    assert found["typo"].startswith("mssante_address:Adresse MSSanté invalide")
    assert found["photo"] == "mssante_not_pdf:plaie.jpg"
    assert found["nothing"].startswith("mssante_nothing")
    assert found["nobody"].startswith("mssante_address:Choisissez un destinataire")
    assert found["too large"].startswith("mssante_too_large")
    assert found["queued"] == "0"


def test_a_directory_address_is_used_and_the_purge_takes_the_messages(pki: Pki, data_dir: Path) -> None:
    made = prepare(data_dir)
    config = configured(pki, free_port())  # nobody listens: the message waits

    async def scenario() -> tuple[list[Any], list[Any], int, int]:
        async with opened_store(data_dir) as store:
            admin = Actor("admin", "admin")
            await store.write(directory.add, {"name": "PETIT", "first_name": "Claire", "specialty": "Dermatologie"}, admin)
            assert await store.write(mssante.set_directory_address, 1, "claire.petit@chu-tours.mssante.fr", admin)
            assert not await store.write(mssante.set_directory_address, 99, "x@y.mssante.fr", admin)
            listed = await store.read(mssante.recipients)
            await queue_one(store, config, made, recipient=None, directory_id=1)
            await dispatcher(store, config, data_dir, Clock()).drain()
            shown = await store.read(mssante.messages_for, made["dossier"])
            await store.write(retention.purge, made["dossier"], 30)
            left = await store.read(lambda db: (db.execute("SELECT count(*) FROM mssante_messages").fetchone()[0],
                                                db.execute("SELECT count(*) FROM deliveries WHERE purpose = 'mssante'").fetchone()[0]))
            return listed, shown, *left
    listed, shown, messages_left, deliveries_left = run_async(scenario())
    assert listed == [{"directory_id": 1, "display_name": "Dr Claire Petit", "specialty": "Dermatologie",
                       "address": "claire.petit@chu-tours.mssante.fr"}]
    [message] = shown
    assert (message["recipient"], message["recipient_name"], message["state"]) == ("claire.petit@chu-tours.mssante.fr", "Dr Claire Petit", "pending")
    assert message["last_error"] == "Serveur MSSanté injoignable (connexion refusée) ; nouvel essai plus tard"
    assert (messages_left, deliveries_left) == (0, 0)  # the dossier gone, its messages and their queue rows too


def test_an_operator_the_cart_does_not_trust_gets_nothing(pki: Pki, data_dir: Path, tmp_path: Path) -> None:
    """The cart checks the operator too: a server certificate from another authority is refused, the message waits."""
    made = prepare(data_dir)
    other = make_pki(tmp_path / "other")
    inbox = OperatorInbox()
    with operator(pki, "tls", inbox) as port:
        config = configured(pki, port, ca_file=str(other.ca))

        async def scenario() -> Any:
            async with opened_store(data_dir) as store:
                await queue_one(store, config, made)
                await dispatcher(store, config, data_dir, Clock()).drain()
                return await delivery_row(store)
        state, attempts, error, _ = run_async(scenario())
    assert (state, attempts) == ("pending", 1)
    assert error == "Certificat du serveur MSSanté non reconnu par le chariot ([mssante] ca_file) ; nouvel essai plus tard"
    assert inbox.received == []
