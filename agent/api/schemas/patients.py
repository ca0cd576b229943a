"""Residents' identities (seed 000 §2.1, the national identity rules)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from agent.api.schemas.common import NAME_PATTERN, Schema, Strict
from agent.identity import contacts
from agent.identity import ins as ins_rules


def _iso_date_only(value: object) -> object:
    """pydantic reads 0 or "0" as 1970-01-01 (a Unix time); a birth date is written AAAA-MM-JJ."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("date attendue au format AAAA-MM-JJ")
    if isinstance(value, (int, float)):
        raise ValueError("date attendue au format AAAA-MM-JJ")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class _IdentityRules(Strict):
    """Checks shared by creation and partial update: each applies to the fields present."""

    @field_validator("birth_name", "used_name", "address_line", "city", check_fields=False)
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("ne peut pas être vide")
        return value.strip() if value else value

    @field_validator("first_names", check_fields=False)
    @classmethod
    def _first_names(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        cleaned = [v.strip() for v in values]
        if any(not v or len(v) > 60 or any(c in v for c in "<>") or not v.isprintable() for v in cleaned):
            raise ValueError("chaque prénom doit faire de 1 à 60 caractères lisibles")
        return cleaned

    @field_validator("birth_date", check_fields=False)
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is None:
            return None
        if value > date.today():
            raise ValueError("la date de naissance est dans le futur")
        if value.year < 1890:
            raise ValueError("la date de naissance est invraisemblable")
        return value

    @field_validator("birth_insee", check_fields=False)
    @classmethod
    def _insee(cls, value: str | None) -> str | None:
        if value and value.startswith("99"):  # INSEE's countries: a birth abroad says its country
            raise ValueError("un code commençant par 99 désigne un pays : indiquez le pays de naissance")
        return value.upper() if value else None  # Corsica: 2a004 is 2A004

    @field_validator("ins", check_fields=False)
    @classmethod
    def _ins(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return str(ins_rules.parse(value))
        except ins_rules.InvalidIns as exc:
            raise ValueError(str(exc)) from exc

    _email = field_validator("email", check_fields=False)(contacts.optional_email)
    _mobile = field_validator("mobile", check_fields=False)(contacts.optional_mobile)


_INSEE = r"^([0-9]{5}|2[ABab][0-9]{3})$"
_POSTAL_CODE = r"^[0-9]{5}$"  # a French postal code (the cart's residents live in the EHPAD's country)


class PatientCreate(_IdentityRules):
    birth_name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    used_name: str | None = Field(None, max_length=100, pattern=NAME_PATTERN)
    first_names: list[str] = Field(min_length=1, max_length=10)
    birth_date: IsoDate
    sex: Literal["F", "M", "I"]
    birth_insee: str | None = Field(None, pattern=_INSEE, description="INSEE code of the birth commune (France)")
    birth_country: str | None = Field(None, min_length=2, max_length=60, pattern=NAME_PATTERN, description="Country of birth, when born abroad")
    ins: str | None = Field(None, max_length=32, description="NIR or NIA, 13 characters and the 2-digit key")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)
    civility: Literal["M.", "Mme"] | None = None
    address_line: str | None = Field(None, max_length=200, pattern=NAME_PATTERN, description="Street and number")
    postal_code: str | None = Field(None, pattern=_POSTAL_CODE)
    city: str | None = Field(None, max_length=100, pattern=NAME_PATTERN)
    identity_status: Literal["PROV", "RECUP", "VALI", "QUAL"] = "PROV"
    confirm_duplicate: bool = Field(False, description="Create even though a likely duplicate exists (409 likely_duplicate)")

    @model_validator(mode="after")
    def _consistent(self) -> PatientCreate:
        if self.birth_insee and self.birth_country:
            raise ValueError("lieu de naissance : une commune française ou un pays étranger, pas les deux")
        if self.identity_status in ("RECUP", "QUAL") and not self.ins:
            raise ValueError("une identité récupérée ou qualifiée a un INS")
        return self


class PatientPatch(_IdentityRules):
    birth_name: str | None = Field(None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    used_name: str | None = Field(None, max_length=100, pattern=NAME_PATTERN)
    first_names: list[str] | None = Field(None, min_length=1, max_length=10)
    birth_date: IsoDate | None = None
    sex: Literal["F", "M", "I"] | None = None
    birth_insee: str | None = Field(None, pattern=_INSEE)
    birth_country: str | None = Field(None, min_length=2, max_length=60, pattern=NAME_PATTERN)
    ins: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)
    civility: Literal["M.", "Mme"] | None = None
    address_line: str | None = Field(None, max_length=200, pattern=NAME_PATTERN)
    postal_code: str | None = Field(None, pattern=_POSTAL_CODE)
    city: str | None = Field(None, max_length=100, pattern=NAME_PATTERN)
    identity_status: Literal["PROV", "RECUP", "VALI", "QUAL"] | None = Field(
        None, description="RECUP or QUAL only with the INS of a new retrieval: a retrieved or qualified identity's strict "
                          "traits change only so (409 identity_traits_locked)")


class PatientOut(Schema):
    id: str
    birth_name: str
    used_name: str | None
    first_names: list[str]
    birth_date: str
    sex: str
    birth_insee: str | None
    birth_place: str | None = Field(description="The birth commune as an identity card says it (« Lyon (69) », former names "
                                    "after: « Arboys en Bugey (01), autrefois Arbignieu »); null: abroad, unknown, or a code "
                                    "INSEE's table does not hold")
    birth_country: str | None
    ins: str | None = Field(description="Only for a qualified identity (QUAL)")
    email: str | None
    mobile: str | None
    civility: str | None
    address_line: str | None
    postal_code: str | None
    city: str | None
    identity_status: str
    display_name: str
    match: float = Field(description="Match rate of a search, 0-100")
    created_at: str
    updated_at: str


class PatientSearch(Strict):
    q: str | None = Field(None, max_length=120, description="Recherche en une saisie : nom, prénom, date de naissance ou INS, "
                          "approchante et phonétique quand rien ne commence ainsi ; seule, sans les critères détaillés")
    name: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=60)
    birth_date: IsoDate | None = None
    ins: str | None = Field(None, max_length=32)
    sex: Literal["F", "M", "I"] | None = None
    mode: Literal["exact", "approaching", "phonetic"] = "exact"
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _one_way(self) -> PatientSearch:
        if self.q and any((self.name, self.first_name, self.birth_date, self.ins, self.sex)):
            raise ValueError("une saisie unique (q) ou les critères détaillés, pas les deux")
        return self


class PatientList(Schema):
    items: list[PatientOut]
    total: int
    found_by: Literal["exact", "approaching", "phonetic"] | None = Field(
        None, description="How the one-box search found them: « approaching » when nothing began as typed")


class CommuneSearch(Strict):
    q: str = Field(min_length=1, max_length=60, description="Début du nom de la commune (« st etienne »), ou d'un code INSEE ou postal")


class CommuneOut(Schema):
    code: str = Field(description="INSEE code: what the identity stores")
    name: str
    department: str
    label: str = Field(description="« Lyon (69) »")
    current: bool = Field(description="False for a former commune (delegated, associated or merged into another): its code is still a birthplace's")


class CommuneList(Schema):
    items: list[CommuneOut]

