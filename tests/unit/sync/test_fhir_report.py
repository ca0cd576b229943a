"""What the regional server reads of the form, the people and the signature: the fiche as a
Composition that turns final once signed, a health professional as a Practitioner found by their
RPPS, and for every change a Provenance naming what it wrote; the signed copy of a document
replaces the first; an update of what the server keeps goes to its address with If-Match."""

from __future__ import annotations

import json

from agent.store.changes import DocumentChange, ParticipantChange
from cloud_sync.fhir_composition import Fiche, composition
from cloud_sync.fhir_document import document_reference
from cloud_sync.fhir_practitioner import RPPS, participant_reference, practitioner
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.plan import TRANSACTION, requests_for
from cloud_sync.queue import Entry
from cloud_sync.to_fhir import Write

IDS = CartIdentifiers("https://telesante.example/fhir/sid/telecart/chariot-12", "chariot-12")
SYSTEM = "https://telesante.example/fhir/sid/telecart/chariot-12"
FICHE = Fiche(dossier_id="d-1", patient_id="p-1", reason="Plaie du talon <droit>", history="Diabète\nAVC en 2019", observations=None,
              expert_opinion=None, vitals=["Température : 37.8 °C (06/12/2026 09:40 UTC, saisi)"], updated_at="2026-12-06T09:45:00Z")
SPECIALIST = ParticipantChange(room_id="r-1", dossier_id="d-1", role="specialist", remote=True, name="PETIT", first_name="Claire",
                               specialty="Dermatologie", rpps="10101234567")


def as_json(resource: object) -> dict:
    return json.loads(resource.model_dump_json(exclude_none=True))  # type: ignore[attr-defined]


def test_the_fiche_is_a_preliminary_consult_note_until_the_expert_signs_it() -> None:
    draft = as_json(composition(FICHE, IDS))
    assert (draft["status"], draft["type"]["coding"][0]["code"], draft["identifier"]) == (
        "preliminary", "11488-4", {"system": f"{SYSTEM}/fiche", "value": "d-1"})
    assert [s["title"] for s in draft["section"]] == ["Motif de la téléconsultation", "Histoire de la maladie, antécédents", "Constantes"]
    assert draft["section"][0]["text"]["div"] == '<div xmlns="http://www.w3.org/1999/xhtml"><p>Plaie du talon &lt;droit&gt;</p></div>'
    assert draft["section"][1]["text"]["div"].count("<p>") == 2  # one paragraph per line typed
    assert draft["encounter"]["reference"] == f"Encounter?identifier={SYSTEM}/dossier|d-1"
    assert draft["author"] == [{"type": "Device", "identifier": {"system": f"{SYSTEM}/cart", "value": "chariot-12"},
                                "display": "Chariot de téléconsultation"}]
    assert "attester" not in draft

    signed = as_json(composition(FICHE.__class__(**{**FICHE.__dict__, "expert_opinion": "Pansement hydrocolloïde, revoir à J7",
                                                     "signed_by": "Dr Claire PETIT", "signed_at": "2026-12-06T10:02:00Z"}), IDS))
    assert (signed["status"], signed["date"]) == ("final", "2026-12-06T10:02:00Z")
    assert signed["attester"] == [{"mode": "legal", "time": "2026-12-06T10:02:00Z", "party": {"display": "Dr Claire PETIT"}}]
    assert signed["section"][-1]["title"] == "Avis de l'expert"


def test_a_professional_is_found_by_their_rpps_and_a_relative_is_not_a_practitioner() -> None:
    sent = as_json(practitioner(SPECIALIST, "41", IDS))
    assert [i["system"] for i in sent["identifier"]] == [RPPS, f"{SYSTEM}/practitioner"]
    assert sent["identifier"][0]["value"] == "10101234567"
    assert (sent["name"][0]["family"], sent["name"][0]["given"], sent["qualification"][0]["code"]["text"]) == ("PETIT", ["Claire"], "Dermatologie")
    named = participant_reference(SPECIALIST, "41", IDS)
    assert (named["identifier"]["value"], named["display"]) == ("10101234567", "Claire PETIT (Dermatologie)")
    unknown = participant_reference(SPECIALIST.model_copy(update={"rpps": None}), "41", IDS)
    assert unknown["identifier"] == {"system": f"{SYSTEM}/practitioner", "value": "41"}


def test_the_signed_copy_of_a_document_is_a_new_one_that_replaces_the_first() -> None:
    import hashlib
    stamped = b"%PDF-1.4 ordonnance signee"
    change = DocumentChange(id="doc-1", dossier_id="d-1", blob=hashlib.sha256(stamped).hexdigest(), name="ordonnance.pdf",
                            kind_of_document="ordonnance", mime="application/pdf", size=len(stamped), signed_by="Dr Claire PETIT")
    sent = as_json(document_reference(change, stamped, "p-1", IDS, signed_copy=True))
    assert sent["identifier"] == [{"system": f"{SYSTEM}/document", "value": "doc-1.signed"}]
    assert sent["relatesTo"] == [{"code": "replaces", "target": {"type": "DocumentReference",
                                                                 "identifier": {"system": f"{SYSTEM}/document", "value": "doc-1"}}}]


def test_an_entry_makes_the_same_requests_each_time_and_a_known_resource_is_updated_where_it_lives() -> None:
    entry = Entry(7, "signature", "d-1", "create", {"dossier_id": "d-1", "signed_by": "Dr Claire PETIT", "signed_at": "2026-12-06T10:02:00Z"},
                  0, "2026-12-06T10:02:00Z")
    writes = [Write(composition(FICHE, IDS), "put")]
    first, again = requests_for(entry, writes, {}, IDS), requests_for(entry, writes, {}, IDS)
    assert first == again and len(first) == 1 and first[0].path == TRANSACTION
    bundle = json.loads(first[0].body)
    assert [e["request"]["method"] + " " + e["request"]["url"].split("?")[0] for e in bundle["entry"]] == [
        f"PUT Composition/{bundle['entry'][0]['resource']['id']}", f"PUT Provenance/{bundle['entry'][1]['resource']['id']}"]
    provenance = bundle["entry"][1]["resource"]
    assert provenance["target"] == [{"reference": bundle["entry"][0]["fullUrl"]}]
    assert [a["type"]["coding"][0]["code"] for a in provenance["agent"]] == ["author", "attester"]
    assert provenance["agent"][1]["who"] == {"display": "Dr Claire PETIT"}

    key = first[0].keys[0]
    update, rest = requests_for(entry, writes, {key: ("Composition/c-9", 'W/"3"', "what the cart wrote before")}, IDS)
    assert (update.method, update.path, update.if_match, json.loads(update.body)["id"]) == ("PUT", "Composition/c-9", 'W/"3"', "c-9")
    assert json.loads(rest.body)["entry"][0]["resource"]["target"] == [{"reference": "Composition/c-9"}]
    assert rest.keys == (None,)
    # the server holds it exactly so already: nothing to send, not even a Provenance; but a signature is recorded
    same = {key: ("Composition/c-9", 'W/"3"', first[0].digests[0])}
    edit = Entry(6, "fiche", "d-1", "update", {"reason": "Plaie du talon <droit>"}, 0, "2026-12-06T10:01:00Z")
    assert requests_for(edit, writes, same, IDS) == []
    (signed,) = requests_for(entry, writes, same, IDS)
    assert [e["resource"]["resourceType"] for e in json.loads(signed.body)["entry"]] == ["Provenance"]
    assert json.loads(signed.body)["entry"][0]["resource"]["target"] == [{"reference": "Composition/c-9"}]
