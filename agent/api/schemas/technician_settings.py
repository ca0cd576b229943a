"""What the technician sets on the technician's page beyond the network: the cart's clock and the
settings kept beside the database (agent/site_settings.py). No field here holds a resident's data."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from agent.api.schemas.common import Schema, Strict
from drivers.audio.sound_check import SoundCheck


class ZoneOut(Schema):
    name: str
    label: str


class ClockOut(Schema):
    timezone: str = Field(description="The system's time zone (systemd-timedated), which the kiosk's clock shows")
    dates_timezone: str = Field(description="The zone of the dates the agent writes (invitations, reports): `[dossiers] timezone`")
    ntp: bool = Field(description="Network time on")
    synchronized: bool = Field(description="Network time reached: the clock is right")
    can_ntp: bool
    now: str = Field(description="The cart's time now, in its zone (ISO 8601)")
    zones: list[ZoneOut] = Field(description="France's zones first, then every other")
    restart_pending: bool = Field(description="A setting saved waits for the agent's restart")
    restarting: bool = Field(False, description="The agent restarts now to apply what was saved (a few seconds)")
    restart_by_hand: bool = Field(False, description="Saved, but no service manager restarts the agent: restart it to apply")


class TimezoneIn(Strict):
    timezone: str = Field(min_length=1, max_length=64)


class NtpIn(Strict):
    on: bool


class TimeIn(Strict):
    at: datetime = Field(description="The time to set, with its offset (e.g. 2026-12-06T14:05:00+01:00)")


class SiteSettingsIn(Strict):
    fhir_base_url: str | None = Field(None, max_length=300, description="The regional server's FHIR address; empty: nothing is sent")
    upload_url: str | None = Field(None, max_length=300)
    http_proxy: str | None = Field(None, max_length=300, description="The EHPAD's web proxy (http://host:port); empty: direct")


class SiteSettingsOut(Schema):
    fhir_base_url: str
    upload_url: str
    http_proxy: str = Field(description="Its password masked")
    restart_pending: bool
    restarting: bool = Field(False, description="The agent restarts now to apply what was saved (a few seconds)")
    restart_by_hand: bool = Field(False, description="Saved, but no service manager restarts the agent: restart it to apply")


class SoundTestOut(Schema):
    check: SoundCheck = Field(description="drivers/audio/sound_check.py's answer: the loudspeaker played, the microphone's level, "
                              "whether it heard the beeps, the verdict in French")
    microphone: str = Field(description="The microphone tested (the raw one, before PipeWire's echo canceller)")


class PrinterChoiceIn(Strict):
    printer: str = Field(max_length=127, description="A CUPS queue's name; empty: the server's default destination")
