"""A resident as a FHIR Patient after FR Core: the name as the identity rules keep it (birth name
official, used name usual, the birth list of first names), sex, birth date, birth place with its
INSEE code, the identity's reliability status (PROV, RECUP, VALI, QUAL), contacts; the INS only for
a qualified identity (NIR, or NIA for a number that begins with 7 or 8), as FR Core says.

Sources: Interop-Sante/hl7.fhir.fr.core, `profiles/FRCorePatientINSProfile.fsh`,
`codesystems/FRCoreCodeSystemIdentityStatus.fsh` and its examples (../shared/notes/fhir-here.md).
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.patient import Patient

from agent.store.changes import PatientChange
from cloud_sync.identifiers import CartIdentifiers

FR_CORE = "https://hl7.fr/ig/fhir/core"
RELIABILITY = f"{FR_CORE}/StructureDefinition/fr-core-identity-reliability"
STATUS_SYSTEM = f"{FR_CORE}/CodeSystem/fr-core-cs-v2-0445"
IDENTIFIER_TYPE_SYSTEM = f"{FR_CORE}/CodeSystem/fr-core-cs-v2-0203"
BIRTH_LIST = f"{FR_CORE}/StructureDefinition/fr-core-patient-birth-list-given-name"
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE = f"{FR_CORE}/StructureDefinition/fr-core-address-insee-code"
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune"
INS_NIR, INS_NIA = "urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9"
GENDER = {"F": "female", "M": "male", "I": "other"}
QUALIFIED = "QUAL"


def patient(change: PatientChange, ids: CartIdentifiers) -> Patient:
    first_names = json.loads(change.first_names)
    names: list[dict[str, Any]] = [{"use": "official", "family": change.birth_name, "given": first_names[:1],
                                    "extension": [{"url": BIRTH_LIST, "valueString": " ".join(first_names)}]}]
    if change.used_name:
        names.append({"use": "usual", "family": change.used_name, "given": first_names[:1]})
    identifiers = [ids.identifier("patient", change.id)]
    if change.identity_status == QUALIFIED and change.ins:
        nia = change.ins[0] in "78"
        identifiers.append({"use": "temp" if nia else "official", "system": INS_NIA if nia else INS_NIR, "value": change.ins,
                            "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "INS-NIA" if nia else "INS-NIR"}]}})
    extensions: list[dict[str, Any]] = [{"url": RELIABILITY, "extension": [
        {"url": "identityStatus", "valueCoding": {"system": STATUS_SYSTEM, "code": change.identity_status}}]}]
    if change.birth_insee:
        extensions.append({"url": BIRTH_PLACE, "valueAddress": {"extension": [
            {"url": INSEE_CODE, "valueCoding": {"system": COMMUNE_SYSTEM, "code": change.birth_insee}}]}})
    elif change.birth_country:
        extensions.append({"url": BIRTH_PLACE, "valueAddress": {"country": change.birth_country}})
    telecom = [{"system": "email", "value": change.email}] if change.email else []
    telecom += [{"system": "phone", "use": "mobile", "value": change.mobile}] if change.mobile else []
    address = [{"line": [change.address_line] if change.address_line else None, "postalCode": change.postal_code,
                "city": change.city, "country": "FRA"}] if change.city or change.address_line else None
    return Patient.model_validate({
        "resourceType": "Patient", "identifier": identifiers, "extension": extensions, "name": names,
        "gender": GENDER.get(change.sex, "unknown"), "birthDate": change.birth_date, "telecom": telecom or None,
        "address": address,
    })
