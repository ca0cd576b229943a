"""The regional server's side of the cart: the outbox's changes (agent/store/changes.py) turned into
FHIR R4 resources after the French profiles (FR Core), sent as idempotent transaction Bundles.

- `identifiers.py`: the cart-scoped identifier every resource carries: what makes a resend harmless.
- `fhir_patient.py`: Patient (FR Core Patient, INS slices only for a qualified identity).
- `fhir_encounter.py`: the dossier as an Encounter (class VR) and its Consent.
- `fhir_observation.py`: Observation for each vital (LOINC, UCUM, the device that measured it).
- `fhir_document.py`: DocumentReference holding a document's bytes, size and hash.
- `fhir_bundle.py`: the transaction Bundle, each create conditional on its identifier.

Resources are built with fhir.resources' R4B models (the nearest to FHIR 4.0.1), so a resource
the server would refuse for its shape fails here, in a test, not on the road.
"""
