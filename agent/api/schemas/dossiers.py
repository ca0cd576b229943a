"""Teleconsultation dossiers: the wizard's body, the dossier as read, its invitations and Visio SMS."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Discriminator, Field, Tag, model_validator

from agent.api.schemas.common import NAME_PATTERN, ContactIn, Schema, Strict
from agent.api.schemas.documents import DocumentOut
from agent.dossiers.dossier import DossierState


class ConsentIn(Strict):
    given: bool = Field(description="The resident (or their representative) agreed to the teleconsultation")
    comment: str | None = Field(None, max_length=1000, description="Required when consent was not given: why the teleconsultation goes ahead")

    @model_validator(mode="after")
    def _justified(self) -> ConsentIn:
        if not self.given and not (self.comment or "").strip():
            raise ValueError("consentement non recueilli : un commentaire doit le justifier")
        return self


class CompanionIn(ContactIn):
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    first_name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)
    remote: bool = Field(False, description="Joins from elsewhere (invited by link) rather than present at the cart")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> CompanionIn:
        if self.remote and not (self.email or self.mobile):
            raise ValueError("un accompagnant à distance reçoit l'invitation : indiquez son e-mail ou son téléphone portable")
        return self


class AccompanimentIn(Strict):
    kind: Literal["alone", "relative", "professional"] = Field(description="alone: the resident with the staff; relative; professional")
    companion: CompanionIn | None = None

    @model_validator(mode="after")
    def _companion(self) -> AccompanimentIn:
        if self.kind != "alone" and self.companion is None:
            raise ValueError("indiquez au moins le nom de l'accompagnant")
        if self.kind == "alone" and self.companion is not None:
            raise ValueError("un résident seul n'a pas d'accompagnant")
        return self


class InviteeIn(ContactIn):
    """Someone invited by link: a name, and an e-mail or a mobile for the invitation."""

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    first_name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> InviteeIn:
        if not (self.email or self.mobile):
            raise ValueError("l'invitation part par e-mail ou SMS : indiquez l'un ou l'autre")
        return self


class ParticipantIn(InviteeIn):
    """Another participant invited to a dossier's room, during the call or before it."""

    role: Literal["relative", "professional"] = Field(description="A relative, or another health professional")


class SpecialistIn(ContactIn):
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    first_name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)
    specialty: str = Field(min_length=1, max_length=80, pattern=NAME_PATTERN)
    rpps: str | None = Field(None, pattern=r"^[0-9]{11}$", description="11-digit RPPS number")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> SpecialistIn:
        if not (self.email or self.mobile):
            raise ValueError("le médecin requis reçoit toujours l'invitation : indiquez son e-mail ou son téléphone portable")
        return self


class DirectoryChoice(Strict):
    directory_id: int = Field(ge=1, description="A professional of the local directory")


class SlotIn(Strict):
    start: AwareDatetime | None = Field(None, description="ISO 8601 with its offset, e.g. 2026-11-25T14:30:00+01:00")
    duration_minutes: int = Field(30, ge=5, le=240)
    now: bool = Field(False, description="An immediate teleconsultation: the room opens at once")

    @model_validator(mode="after")
    def _one_of(self) -> SlotIn:
        if self.now == (self.start is not None):
            raise ValueError("créneau : une date de début, ou « maintenant », l'un des deux")
        return self


class DossierCreate(Strict):
    patient_id: str = Field(min_length=1, max_length=64)
    consent: ConsentIn
    accompaniment: AccompanimentIn
    specialist: Annotated[
        Annotated[SpecialistIn, Tag("manual")] | Annotated[DirectoryChoice, Tag("directory")],
        Discriminator(lambda v: "directory" if isinstance(v, dict) and "directory_id" in v else "manual"),
    ] = Field(description="Entered by hand, or {\"directory_id\"} from the local directory")
    slot: SlotIn
    reason: str | None = Field(None, max_length=500, description="Motif of the teleconsultation (also editable in the form)")
    confirm_overlap: bool = Field(False, description="Create even though another consultation holds the cart then (409 slot_overlap names it)")


class DeliveryOut(Schema):
    channel: Literal["email", "sms"]
    recipient: str
    state: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    sent_at: str | None


class InvitationOut(Schema):
    id: str
    participant_id: int = Field(description="The person invited: their member id in the live room is p<participant_id>")
    renewed: bool = Field(description="Revoked, and the same person was invited again with a new link")
    shown_name: str = Field(description="As the room shows them: « Dr Claire PETIT », « Paul LEFEBVRE », or their role")
    role: str
    role_label: str
    name: str | None
    first_name: str | None
    email: str | None
    mobile: str | None
    created_at: str
    revoked_at: str | None
    sends: int
    link: str = Field(description="The participant's personal link (to read out on the phone if a message went astray)")
    deliveries: list[DeliveryOut]


class RegionItemOut(Schema):
    """Something the regional server wrote for the dossier: the expert's opinion as a note, a
    document (then also among the documents), or one the cart refused (`text` says why)."""

    kind: Literal["note", "document", "refused"]
    title: str | None
    author: str | None
    text: str | None
    written_at: str | None
    received_at: str
    document_id: str | None


class SpecialistDossierOut(Schema):
    """A dossier as its specialist reads it through their link: without the participants' links."""

    id: str
    state: DossierState
    state_label: str
    patient: dict[str, Any]
    reason: str | None
    consent: dict[str, Any]
    accompaniment: dict[str, Any]
    specialist: dict[str, Any] | None
    slot: dict[str, Any] | None
    room: dict[str, Any] | None
    fiche: dict[str, Any]
    vitals: list[dict[str, Any]]
    documents: list[DocumentOut]
    from_region: list[RegionItemOut] = Field(default_factory=list, description="What the regional server wrote for it, newest first")
    cancellation: dict[str, Any] | None = Field(None, description="Why, by whom and when the EHPAD cancelled it")
    created_at: str
    created_by: str | None
    updated_at: str
    kind: Literal["teleconsultation", "teleexpertise"] = Field("teleconsultation", description="A call, or an opinion in writing without one")
    expertise: dict[str, Any] | None = Field(None, description="A téléexpertise's question and deadline (ISO 8601)")
    version: str = Field("", description="The dossier's version: when the one the page asks for differs, it reads the dossier again")


class LinkDossierOut(SpecialistDossierOut):
    """The specialist's dossier with their link session's CSRF token: a session opened by Pro Santé
    Connect comes back on a page that has not seen the code's answer."""

    csrf_token: str = Field(description="Echo it in X-CSRF-Token on every change")


class DossierOut(SpecialistDossierOut):
    """A dossier as the staff see it: with its invitations."""

    invitations: list[InvitationOut]


class WizardDraft(Strict):
    draft: dict[str, Any] | None = Field(description="Whatever the kiosk's wizard needs to resume; null drops it")


class VisioIn(ContactIn):
    mobile: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)

    @model_validator(mode="after")
    def _reachable(self) -> VisioIn:
        if not (self.email or self.mobile):
            raise ValueError("indiquez un téléphone portable ou une adresse e-mail")
        return self


class VisioOut(Schema):
    room: dict[str, Any]
    invitation_id: str


class CancellationIn(Strict):
    reason: str = Field(min_length=3, max_length=500, description="Why the teleconsultation is called off (traced, sent to the regional server)")


class TransitionIn(Strict):
    to: DossierState


class PendingDeliveryOut(Schema):
    channel: Literal["email", "sms"]
    state: Literal["pending", "sent", "failed"]
    last_error: str | None


class NotReachedOut(Schema):
    name: str
    deliveries: list[PendingDeliveryOut] = Field(description="Its messages, none sent yet (empty: none queued)")


class DossierSummaryOut(Schema):
    id: str
    patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    state: DossierState
    reason: str | None
    specialist: str | None
    specialty: str | None
    slot_start: str | None
    slot_minutes: int | None
    updated_at: str
    specialist_directory_id: int | None = Field(None, description="The consulted doctor's entry in the directory, if chosen there")
    specialist_rpps: str | None = None
    not_reached: list[NotReachedOut] = Field(description="Invited people no message has reached yet")


class PresentOut(Schema):
    id: str
    name: str
    role: str


class RoomPresenceOut(Schema):
    room: str
    dossier_id: str | None
    cart_in_call: bool
    present: list[PresentOut] = Field(description="Remote participants in the room")
    waiting: list[PresentOut] = Field(description="People in its lobby, with the name they typed")


class ActivityPulse(Schema):
    version: str = Field(description="Changes when the activity view would change; read the list again then")
    rooms: list[RoomPresenceOut]
    dossier_version: str | None = Field(None, description="With ?dossier=: that dossier's version (as in its reply), null when it is not on the cart")


class PulseQuery(Strict):
    dossier: str | None = Field(None, max_length=64, description="The dossier open on screen: its version comes with the pulse")


class DossierQuery(Strict):
    patient_id: str | None = Field(None, max_length=64, description="One resident's consultations only")


class DossierList(Schema):
    items: list[DossierSummaryOut]
    total: int
