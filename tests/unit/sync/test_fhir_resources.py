"""What the regional server reads of the cart's records: a resident as FR Core's Patient (the INS
only for a qualified identity), each vital as an Observation with its LOINC code, UCUM unit and who
measured it, all in a transaction Bundle that is the same every time it is sent."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from agent.store.changes import ConsentChange, DocumentChange, DossierChange, PatientChange, VitalChange
from cloud_sync.fhir_bundle import transaction, transaction_json
from cloud_sync.fhir_composition import Fiche, composition
from cloud_sync.fhir_document import document_reference
from cloud_sync.fhir_encounter import appointment, consent, encounter
from cloud_sync.fhir_observation import observation
from cloud_sync.fhir_patient import INS_NIA, INS_NIR, patient
from cloud_sync.fhir_provenance import provenance
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.plan import digest

IDS = CartIdentifiers("https://telesante.example/fhir/sid/telecart/chariot-12")
RESIDENT = PatientChange(
    id="p-1", birth_name="DUPONT", used_name="MARTIN", first_names=json.dumps(["Marie", "Françoise"]), birth_date="1935-03-02", sex="F",
    identity_status="QUAL", birth_insee="75056", birth_country=None, ins="235037505612345", email=None, mobile="+33612345678",
    civility="Mme", address_line=None, postal_code=None, city=None, created_at="2026-12-01T10:00:00Z", updated_at="2026-12-01T10:00:00Z")


def as_json(resource: object) -> dict:
    return json.loads(resource.model_dump_json(exclude_none=True))  # type: ignore[attr-defined]


def test_a_qualified_resident_carries_the_ins_and_a_provisional_one_never() -> None:
    sent = as_json(patient(RESIDENT, IDS))
    assert sent["identifier"] == [
        {"system": "https://telesante.example/fhir/sid/telecart/chariot-12/patient", "value": "p-1"},
        {"use": "official", "system": INS_NIR, "value": "235037505612345",
         "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "INS-NIR"}]}}]
    assert sent["name"][0] == {"use": "official", "family": "DUPONT", "given": ["Marie"], "extension": [
        {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name", "valueString": "Marie Françoise"}]}
    assert sent["name"][1] == {"use": "usual", "family": "MARTIN", "given": ["Marie"]}
    assert (sent["gender"], sent["birthDate"]) == ("female", "1935-03-02")
    status = sent["extension"][0]
    assert status["extension"][0]["valueCoding"]["code"] == "QUAL"
    assert sent["extension"][1]["valueAddress"]["extension"][0]["valueCoding"]["code"] == "75056"

    provisional = as_json(patient(RESIDENT.model_copy(update={"identity_status": "PROV"}), IDS))
    assert [i["system"] for i in provisional["identifier"]] == ["https://telesante.example/fhir/sid/telecart/chariot-12/patient"]
    nia = as_json(patient(RESIDENT.model_copy(update={"ins": "735037505612345"}), IDS))["identifier"][1]
    assert (nia["system"], nia["use"]) == (INS_NIA, "temp")


def test_a_measured_blood_pressure_is_the_panel_with_its_components_and_its_device() -> None:
    change = VitalChange(dossier_id="d-1", kind_of_vital="blood_pressure", value="142/86", unit="mmHg", measured_at="2026-12-06T09:44:00Z",
                         source="capteur", device="Tensiomètre SunTech (module PNI Advantage)", loinc="85354-9", ucum="mm[Hg]")
    sent = as_json(observation("7", change, "p-1", IDS))
    assert sent["code"]["coding"] == [{"system": "http://loinc.org", "code": "85354-9"}]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in sent["component"]] == [
        ("8480-6", {"value": 142, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}),
        ("8462-4", {"value": 86, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"})]
    assert sent["device"] == {"display": "Tensiomètre SunTech (module PNI Advantage)"}
    assert sent["subject"]["reference"] == "Patient?identifier=https://telesante.example/fhir/sid/telecart/chariot-12/patient|p-1"
    assert sent["encounter"]["reference"].endswith("/dossier|d-1")
    assert sent["category"][0]["coding"][0]["code"] == "vital-signs" and "valueQuantity" not in sent


def test_a_typed_glucose_is_a_laboratory_result_said_typed() -> None:
    change = VitalChange(dossier_id="d-1", kind_of_vital="glucose", value="0.95", unit="g/L", measured_at="2026-12-06T09:50:00Z",
                         source="saisie")
    sent = as_json(observation("8", change, "p-1", IDS))
    assert sent["category"][0]["coding"][0]["code"] == "laboratory"
    assert sent["valueQuantity"] == {"value": 0.95, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"}
    assert sent["method"] == {"text": "saisie à la main"} and "device" not in sent


def test_the_same_changes_make_the_same_bundle_each_create_conditional() -> None:
    def made() -> dict:
        vital = VitalChange(dossier_id="d-1", kind_of_vital="spo2", value="96", unit="%", measured_at="2026-12-06T09:42:00Z", source="capteur")
        return as_json(transaction([patient(RESIDENT, IDS), observation("9", vital, "p-1", IDS)]))

    first, again = made(), made()
    assert first == again
    assert first["type"] == "transaction"
    assert [e["request"] for e in first["entry"]] == [
        {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=https://telesante.example/fhir/sid/telecart/chariot-12/patient|p-1"},
        {"method": "POST", "url": "Observation", "ifNoneExist": "identifier=https://telesante.example/fhir/sid/telecart/chariot-12/vital|9"}]
    assert len({e["fullUrl"] for e in first["entry"]}) == 2 and all(e["fullUrl"].startswith("urn:uuid:") for e in first["entry"])


def test_the_bundle_written_from_each_resource_s_json_is_the_very_text_the_bundle_model_writes() -> None:
    """plan.py writes each resource's JSON once (for its digest too) and puts the Bundle together
    from those: the bytes sent must be the ones the validated Bundle model writes, whatever the
    resources hold (accents, quotes, markup, line breaks, numbers, base64, an id of its own)."""
    vital = VitalChange(dossier_id="d-1", kind_of_vital="temperature", value="37.8", unit="°C", measured_at="2026-12-06T09:42:00.123Z",
                        source="saisie", device="Thermomètre « Braun » \"ThermoScan\"")
    pdf = b"%PDF-1.4 r\xe9sultat \x00\xff"
    document = DocumentChange(id="doc-1", dossier_id="d-1", blob=hashlib.sha256(pdf).hexdigest(), name="compte-rendu <v2>.pdf",
                              kind_of_document="resultat", mime="application/pdf", size=len(pdf), added_at="2026-12-06T09:50:00Z")
    fiche = Fiche(dossier_id="d-1", patient_id="p-1", reason="Plaie du talon <droit> & \"rougeur\"", history="Diabète\nAVC en 2019",
                  observations=None, expert_opinion=None, vitals=["Température : 37.8 °C"], updated_at="2026-12-06T09:45:00Z")
    cart = CartIdentifiers(IDS.base, "chariot-12")  # the cart authors the fiche and the Provenance
    written = [(patient(RESIDENT, cart), "upsert"), (observation("9", vital, "p-1", cart), "create"),
               (document_reference(document, pdf, "p-1", cart), "create"), (composition(fiche, cart), "put"),
               (provenance(cart, 7, ["urn:uuid:a", "Encounter/e-1"], "2026-12-06T09:50:00.5Z", True, "Dr Claire PETIT"), "put")]
    texts = [(resource, how, resource.model_dump_json(exclude_none=True)) for resource, how in written]
    assert transaction_json(texts) == transaction(written).model_dump_json(exclude_none=True)
    for resource, _, text in texts:  # the digest from the JSON already written, or without its id when it has one
        assert digest(resource, text) == hashlib.sha256(resource.model_dump_json(exclude_none=True, exclude={"id"}).encode()).hexdigest()


def test_a_dossier_is_a_virtual_encounter_with_its_slot_and_its_consent() -> None:
    dossier = DossierChange(id="d-1", patient_id="p-1", state="awaiting_report", reason="Plaie du talon", specialist="Dr Claire PETIT",
                            specialty="Dermatologie", slot_start="2026-12-06T09:00:00Z", slot_minutes=30, accompaniment="alone",
                            created_at="2026-12-05T10:00:00Z", updated_at="2026-12-06T09:40:00Z")
    sent = as_json(encounter(dossier, IDS))
    assert (sent["status"], sent["class"]["code"], sent["reasonCode"]) == ("finished", "VR", [{"text": "Plaie du talon"}])
    assert sent["period"] == {"start": "2026-12-06T09:00:00Z", "end": "2026-12-06T09:30:00Z"}
    assert sent["participant"][0]["individual"] == {"display": "Dr Claire PETIT (Dermatologie)"}
    assert as_json(encounter(dossier.model_copy(update={"state": "cancelled"}), IDS))["status"] == "cancelled"
    assert sent["appointment"] == [{"type": "Appointment", "identifier": {"system": f"{IDS.base}/appointment", "value": "d-1"}}]
    booked = as_json(appointment(dossier.model_copy(update={"state": "scheduled"}), IDS))
    assert (booked["status"], booked["start"], booked["end"], booked["minutesDuration"]) == (
        "booked", "2026-12-06T09:00:00Z", "2026-12-06T09:30:00Z", 30)
    assert [(p["actor"].get("reference") or p["actor"]["display"], p["status"]) for p in booked["participant"]] == [
        (f"Patient?identifier={IDS.base}/patient|p-1", "accepted"), ("Dr Claire PETIT", "needs-action")]
    called_off = as_json(appointment(dossier.model_copy(update={"state": "cancelled"}), IDS, cancel_reason="Résident hospitalisé"))
    assert (called_off["status"], called_off["cancelationReason"]) == ("cancelled", {"text": "Résident hospitalisé"})
    given = as_json(consent(ConsentChange(dossier_id="d-1", patient_id="p-1", given=True, comment=None, collected_at="2026-12-06T08:55:00Z"), IDS))
    refused = as_json(consent(ConsentChange(dossier_id="d-1", patient_id="p-1", given=False, comment="Refus de la fille",
                                            collected_at="2026-12-06T08:55:00Z"), IDS))
    assert (given["status"], refused["status"], given["patient"]["reference"]) == (
        "active", "rejected", "Patient?identifier=https://telesante.example/fhir/sid/telecart/chariot-12/patient|p-1")


def test_a_document_travels_inside_its_reference_with_its_size_and_hash_and_only_its_own_bytes() -> None:
    pdf = b"%PDF-1.4 ordonnance"
    change = DocumentChange(id="doc-1", dossier_id="d-1", blob=hashlib.sha256(pdf).hexdigest(), name="ordonnance.pdf",
                            kind_of_document="ordonnance", mime="application/pdf", size=len(pdf), added_at="2026-12-06T09:50:00Z",
                            signed_by="Dr Claire PETIT", signed_at="2026-12-06T09:55:00Z")
    sent = as_json(document_reference(change, pdf, "p-1", IDS))
    attachment = sent["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]) == pdf
    assert (attachment["size"], attachment["hash"], attachment["contentType"]) == (
        len(pdf), base64.b64encode(hashlib.sha1(pdf).digest()).decode(), "application/pdf")
    assert (sent["type"]["text"], sent["authenticator"]["display"]) == ("Ordonnance", "Dr Claire PETIT")
    assert sent["context"]["encounter"][0]["reference"].endswith("/dossier|d-1")
    with pytest.raises(ValueError, match="not the ones recorded"):
        document_reference(change, b"other bytes", "p-1", IDS)
    uploaded = as_json(document_reference(change, pdf, "p-1", IDS, uploaded_to="https://telesante.example/files/abc"))["content"][0]["attachment"]
    assert "data" not in uploaded and (uploaded["url"], uploaded["size"], uploaded["hash"]) == (
        "https://telesante.example/files/abc", attachment["size"], attachment["hash"])  # the region checks the file it holds by them
