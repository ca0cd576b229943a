"""A vital of the fiche as a FHIR Observation (FR Core's vital-sign profiles): its LOINC code and
UCUM unit as the fiche keeps them (agent/dossiers/fiche.py VITALS), the time it was measured, the
resident and the consultation it belongs to, and who measured it: the sensor (Observation.device,
by its name: the cart sends no Device resource of its own) or the nurse's hand (method « saisie »).
A blood pressure is the panel 85354-9 with its systolic and diastolic components; a capillary
glucose is a laboratory result, not a vital sign (FHIR R4's vital-signs list does not hold it).

Sources: https://hl7.org/fhir/R4/observation-vitalsigns.html and the FR Core Observation profiles
(../shared/notes/fhir-here.md).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.observation import Observation

from agent.dossiers.fiche import VITALS
from agent.store.changes import VitalChange
from cloud_sync.identifiers import CartIdentifiers

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SYSTOLIC, DIASTOLIC = ("8480-6", "Systolic blood pressure"), ("8462-4", "Diastolic blood pressure")
TYPED, MEASURED = "saisie", "capteur"


def _quantity(value: str, ucum: str, unit: str) -> dict[str, Any]:
    number = float(value)
    return {"value": int(number) if number.is_integer() and "." not in value else number, "unit": unit, "system": UCUM, "code": ucum}


def observation(vital_id: str, change: VitalChange, patient_id: str, ids: CartIdentifiers) -> Observation:
    """The vital `vital_id` of dossier `change.dossier_id`, about patient `patient_id` (both sent by
    the cart too: referenced by their cart identifiers, resolved by the server in the transaction)."""
    spec = VITALS[change.kind_of_vital]
    loinc, ucum = change.loinc or spec.loinc, change.ucum or spec.ucum
    category = "laboratory" if change.kind_of_vital == "glucose" else "vital-signs"
    body: dict[str, Any] = {
        "resourceType": "Observation", "status": "final",
        "identifier": [ids.identifier("vital", vital_id)],
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": LOINC, "code": loinc}], "text": spec.label},
        "subject": {"reference": f"Patient?{ids.search('patient', patient_id)}"},
        "encounter": {"reference": f"Encounter?{ids.search('dossier', change.dossier_id)}"},
        "effectiveDateTime": change.measured_at,
        "method": {"text": "mesurée par un capteur connecté" if change.source == MEASURED else "saisie à la main"},
    }
    if change.device:
        body["device"] = {"display": change.device}
    if change.kind_of_vital == "blood_pressure":
        systolic, diastolic = change.value.split("/")
        body["component"] = [
            {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]}, "valueQuantity": _quantity(v, ucum, spec.unit)}
            for (code, display), v in ((SYSTOLIC, systolic), (DIASTOLIC, diastolic))]
    else:
        body["valueQuantity"] = _quantity(change.value, ucum, spec.unit)
    return Observation.model_validate(body)
