"""Demo data: staff accounts and realistic residents of an EHPAD, with dossiers in every state.

Seeded once per data directory (marked in the `meta` table), so `telecart demo` can be run again
and keeps what was done in the previous run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlite_utils import Database

from agent.access import accounts
from agent.access.roles import Role
from agent.audit import Actor
from agent.dossier import DossierState
from agent.dossier import insert as insert_dossier
from agent.identity import NewIdentity
from agent.identity import create as create_identity
from agent.ins import key_of
from agent.store import transaction

DEMO_MARK = "demo"


@dataclass(frozen=True)
class DemoAccount:
    login: str
    display_name: str
    role: Role
    password: str
    otp_secret: str  # fixed, so the demo's authenticator entries survive a reset


ACCOUNTS = (
    DemoAccount("infirmiere", "Camille Martin", Role.NURSE, "demo-infirmiere", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXA"),
    DemoAccount("medecin", "Dr Hélène Lefebvre", Role.DOCTOR, "demo-medecin", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLA"),
    DemoAccount("technicien", "Karim Benali", Role.TECHNICIAN, "demo-technicien", "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LA"),
    DemoAccount("admin", "Sophie Durand", Role.ADMIN, "demo-admin-ehpad", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJA"),
)

# (birth name, used name, first names, birth date, sex, identity status)
RESIDENTS = (
    ("MOREAU", "LEFEBVRE", ["Jeanne", "Marie"], date(1934, 3, 14), "F", "QUAL"),
    ("DUPONT", None, ["Marcel", "André"], date(1931, 11, 2), "M", "QUAL"),
    ("GIRARD", "ROUSSEAU", ["Simone"], date(1938, 6, 21), "F", "VALI"),
    ("BERNARD", None, ["Lucien"], date(1929, 1, 30), "M", "RECUP"),
    ("FAURE", "LAMBERT", ["Germaine", "Louise"], date(1933, 9, 8), "F", "QUAL"),
    ("MERCIER", None, ["Raymond"], date(1940, 12, 24), "M", "PROV"),
    ("BLANC", "CHEVALIER", ["Yvette"], date(1936, 5, 17), "F", "QUAL"),
    ("GUERIN", None, ["Henri", "Paul"], date(1932, 7, 4), "M", "VALI"),
    ("ROBERT", "FONTAINE", ["Odette"], date(1935, 2, 11), "F", "QUAL"),
    ("LEROY", None, ["Georges"], date(1939, 10, 19), "M", "PROV"),
)


def _demo_ins(sex: str, born: date, order: int) -> str:
    """A well-formed NIR for a resident born in Paris (75 056): sex, year, month, place, order, key."""
    number = f"{1 if sex == 'M' else 2}{born.year % 100:02d}{born.month:02d}75056{order:03d}"
    return number + key_of(number)


def _slot(hours_from_now: float) -> str:
    moment = datetime.now(UTC) + timedelta(hours=hours_from_now)
    moment = moment.replace(minute=(moment.minute // 15) * 15, second=0, microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def is_seeded(db: Database) -> bool:
    return db.execute("SELECT 1 FROM meta WHERE key = ?", [DEMO_MARK]).fetchone() is not None


def seed(db: Database) -> bool:
    """Fill an empty data directory with demo data; returns False when it was already seeded."""
    with transaction(db):
        if is_seeded(db):
            return False
        for acc in ACCOUNTS:
            if accounts.find_by_login(db, acc.login) is None:
                accounts.create_account(db, acc.login, acc.role, acc.password, acc.display_name, acc.otp_secret, created_by="demo")
        nurse = Actor("infirmiere", Role.NURSE.value, "demo")
        ids = [
            create_identity(db, NewIdentity(birth, firsts, born, sex, used, status, birth_insee="75056",
                                            ins=_demo_ins(sex, born, order) if status in ("RECUP", "QUAL") else None), nurse).id
            for order, (birth, used, firsts, born, sex, status) in enumerate(RESIDENTS, start=1)
        ]
        plan = (
            (ids[0], DossierState.IN_PROGRESS, "Plaie du talon gauche, évolution", "Dr Antoine Roux", "Dermatologie", _slot(-0.25), 30),
            (ids[1], DossierState.SCHEDULED, "Avis sur troubles du rythme", "Dr Claire Petit", "Cardiologie", _slot(2), 30),
            (ids[2], DossierState.SCHEDULED, "Suivi escarre sacrée", "Dr Antoine Roux", "Dermatologie", _slot(26), 20),
            (ids[4], DossierState.AWAITING_REPORT, "Otalgie droite", "Dr Marc Garnier", "ORL", _slot(-26), 20),
            (ids[6], DossierState.CLOSED, "Réévaluation du traitement antalgique", "Dr Claire Petit", "Gériatrie", _slot(-72), 30),
            (ids[7], DossierState.DRAFT, "Lésion pigmentée du dos", None, "Dermatologie", None, None),
        )
        for patient_id, state, reason, specialist, specialty, start, minutes in plan:
            insert_dossier(db, patient_id, state, nurse, reason=reason, specialist=specialist, specialty=specialty,
                           slot_start=start, slot_minutes=minutes)
        db["meta"].insert({"key": DEMO_MARK, "value": datetime.now(UTC).isoformat()})
    return True
