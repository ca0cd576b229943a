"""The Bluetooth devices the cart has paired, remembered across restarts (table `ble_devices`,
m0017): paired from the kiosk or the technician's page, forgotten the same way; both audited."""

from __future__ import annotations

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from drivers.sensors.ble_link import BleDevice


def paired(db: Database) -> list[BleDevice]:
    return [BleDevice(r["address"], r["name"], r["kind"], tuple(filter(None, r["services"].split(","))))
            for r in db.query("SELECT address, name, kind, services FROM ble_devices ORDER BY paired_at")]


def remember(db: Database, device: BleDevice, actor: Actor) -> None:
    db["ble_devices"].upsert({"address": device.address, "name": device.name, "kind": device.kind,
                              "services": ",".join(device.services), "paired_at": utc_now_iso(), "paired_by": actor.login},
                             pk="address")
    audit.append(db, actor.event("sensor.pair", detail=f"{device.name} ({device.address})"))


def forget(db: Database, address: str, actor: Actor) -> bool:
    found = db["ble_devices"].count_where("address = ?", [address])
    if found:
        db["ble_devices"].delete(address)
        audit.append(db, actor.event("sensor.forget", detail=address))
    return bool(found)
