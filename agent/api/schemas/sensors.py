"""The sensors, their live values, and a measurement recorded into the fiche."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.api.schemas.common import Schema, Strict

MeasuredKind = Literal["spo2", "pulse", "blood_pressure", "temperature", "weight", "glucose"]


class SensorOut(Schema):
    id: str
    name: str = Field(description="The cart's name for it, e.g. « Oxymètre »")
    kind: str = Field(description="oximeter | blood_pressure | thermometer | scale | glucose_meter | heart_rate")
    model: str = Field(description="What the device is (its protocol's label)")
    transport: str = Field(description="serial | bluetooth")
    state: str = Field(description="connecting | connected | silent | absent | error")
    state_text: str = Field(description="The state in French")
    reason: str | None = Field(description="Why it is not connected, in French")
    battery: int | None = Field(description="Battery level in %, when the device says it")
    last_seen: str | None = Field(description="When it last sent a measurement (ISO 8601)")
    simulated: bool


class SensorsOut(Schema):
    sensors: list[SensorOut]


class LiveValueOut(Schema):
    quantity: str
    value: float | None = Field(description="null: the device has no value now (finger out, searching)")
    unit: str = Field(description="UCUM")
    decimals: int
    flags: list[str] = Field(description="What the device says of itself (sensor_off, cuff_loose…)")
    warnings: list[str] = Field(description="The same, in French")
    sensor: str
    at: str


class HeldOut(Schema):
    kind: MeasuredKind
    label: str
    value: str = Field(description="As the fiche records it: 97, 135/85, 37.6")
    unit: str
    ucum: str
    loinc: str
    sensor: str
    device: str
    at: str = Field(description="When it was measured (the device's clock when believable)")
    received: str = Field(description="When the cart received it: it is offered for ten minutes")
    flags: list[str]
    warnings: list[str]


class LiveOut(Schema):
    sensors: list[SensorOut]
    values: list[LiveValueOut] = Field(description="The latest value of each quantity each sensor measures")
    held: list[HeldOut] = Field(description="Per fiche vital and sensor, the steady (or final) value one tap records")


class MeasuredPick(Strict):
    kind: MeasuredKind
    sensor: str = Field(min_length=1, max_length=64, description="Which sensor's value (a cuff's pulse is not the oximeter's)")


class MeasuredIn(Strict):
    values: list[MeasuredPick] = Field(min_length=1, max_length=8, description="The vitals to record, from the values held now")


class MeasureOut(Schema):
    sensor: str
    message: str = Field(description="What the kiosk says, in French")


class ScanIn(Strict):
    seconds: float = Field(6.0, ge=1, le=20, description="How long to listen for devices")


class FoundOut(Schema):
    address: str
    name: str
    kind: str
    rssi: int | None = Field(description="Signal strength in dBm: nearer is higher")


class ScanOut(Schema):
    found: list[FoundOut]


class PairIn(Strict):
    address: str = Field(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$", description="The device's Bluetooth address, from a scan")
