"""Vitals measured by the cart's sensors: each keeps the device that measured it, its LOINC code,
its UCUM unit and what the device said of the measurement (cuff loose, irregular pulse); typed ones
keep these empty. Bluetooth devices paired from the kiosk or the technician's page are remembered."""

from sqlite_utils import Database


def up(db: Database) -> None:
    vitals = db["vitals"]
    for column in ("device", "loinc", "ucum", "warnings"):
        vitals.add_column(column, str)
    db.execute("UPDATE vitals SET loinc = CASE kind WHEN 'spo2' THEN '59408-5' WHEN 'pulse' THEN '8867-4' "
               "WHEN 'blood_pressure' THEN '85354-9' WHEN 'temperature' THEN '8310-5' WHEN 'weight' THEN '29463-7' "
               "WHEN 'glucose' THEN '2339-0' WHEN 'respiratory_rate' THEN '9279-1' WHEN 'pain' THEN '72514-3' END")
    db["ble_devices"].create({"address": str, "name": str, "kind": str, "services": str, "paired_at": str, "paired_by": str},
                             pk="address", not_null={"name", "kind", "services", "paired_at", "paired_by"})
