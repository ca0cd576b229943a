"""The cart's agenda: its teleconsultations of a day or a week, in the cart's time zone (one
agenda: the cart is one shared resource)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.agenda import AgendaItemOut, AgendaOut, AgendaQuery, DeliveryStateOut, InviteeOut
from agent.dossiers import agenda


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else None


def _minute_of(moment: datetime | None, day: date, zone: ZoneInfo) -> int | None:
    """Minutes from `day`'s midnight on the cart's clock (a wall-clock reading, as the agenda draws it)."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return (local.date() - day).days * 24 * 60 + local.hour * 60 + local.minute


def _item_out(item: agenda.AgendaItem, zone: ZoneInfo) -> AgendaItemOut:
    day = item.start.astimezone(zone).date()
    return AgendaItemOut(
        id=item.id, resident=item.resident, state=item.state.value, state_label=item.state_label, reason=item.reason,
        specialist=item.specialist, specialty=item.specialty, start=_local(item.start, zone) or "", end=_local(item.end, zone) or "",
        day=day.isoformat(), start_minute=_minute_of(item.start, day, zone) or 0, minutes=item.minutes,
        room_opens_at=_local(item.room_opens_at, zone), room_closes_at=_local(item.room_closes_at, zone),
        room_opens_minute=_minute_of(item.room_opens_at, day, zone), room_closes_minute=_minute_of(item.room_closes_at, day, zone),
        overlaps=item.overlaps,
        invitees=[InviteeOut(
            participant_id=p.participant_id, name=p.name, role=p.role, role_label=p.role_label, revoked=p.revoked, delivery=p.delivery,  # type: ignore[arg-type]
            channels=[DeliveryStateOut(**c) for c in p.channels], opened_link=p.opened_link, read_dossier=p.read_dossier,
            entered_room=p.entered_room) for p in item.invitees])


@API.route("GET", "/agenda", summary="L'agenda du chariot : ses téléconsultations d'un jour ou d'une semaine (heure du chariot), "
           "chevauchements, salles, invités et ce qu'ils ont fait de leur lien", tags=("dossiers",), access=Permission.HEALTH_READ,
           query=AgendaQuery, response=AgendaOut)
async def read_agenda(call: Call) -> AgendaOut:
    query: AgendaQuery = call.query
    services = services_of(call.request)
    zone = services.dossier_settings.zone
    now = datetime.now(UTC).astimezone(zone)
    window = agenda.Window(query.first_day or now.date(), query.days, zone)
    items = await services.store.write(agenda.consultations, window, call.actor, essential=True)
    days = [window.first_day.fromordinal(window.first_day.toordinal() + i).isoformat() for i in range(window.days)]
    return AgendaOut(first_day=window.first_day.isoformat(), days=window.days, day_list=days, zone=zone.key, today=now.date().isoformat(),
                     now=now.isoformat(timespec="seconds"), now_minute=now.hour * 60 + now.minute,
                     items=[_item_out(item, zone) for item in items])
