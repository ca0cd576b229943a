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
from agent.dossiers import directory, dossier
from agent.dossiers.dossier import DossierState
from agent.identity.ins import key_of
from agent.identity.patients import NewIdentity
from agent.identity.patients import create as create_identity
from agent.links import invitation
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

# (birth name, used name, first names, birth date, sex, identity status, birthplace: INSEE code, the
# arrondissement's for Paris, Lyon and Marseille, as civil registers and the INS give it)
RESIDENTS = (
    ("MOREAU", "LEFEBVRE", ["Jeanne", "Marie"], date(1934, 3, 14), "F", "QUAL", "75115"),  # Paris 15e
    ("DUPONT", None, ["Marcel", "André"], date(1931, 11, 2), "M", "QUAL", "69383"),  # Lyon 3e
    ("GIRARD", "ROUSSEAU", ["Simone"], date(1938, 6, 21), "F", "VALI", "42218"),  # Saint-Étienne
    ("BERNARD", None, ["Lucien"], date(1929, 1, 30), "M", "RECUP", "15187"),  # Saint-Flour
    ("FAURE", "LAMBERT", ["Germaine", "Louise"], date(1933, 9, 8), "F", "QUAL", "63113"),  # Clermont-Ferrand
    ("MERCIER", None, ["Raymond"], date(1940, 12, 24), "M", "PROV", "59512"),  # Roubaix
    ("BLANC", "CHEVALIER", ["Yvette"], date(1936, 5, 17), "F", "QUAL", "13208"),  # Marseille 8e
    ("GUERIN", None, ["Henri", "Paul"], date(1932, 7, 4), "M", "VALI", "29232"),  # Quimper
    ("ROBERT", "FONTAINE", ["Odette"], date(1935, 2, 11), "F", "QUAL", "87085"),  # Limoges
    ("LEROY", None, ["Georges"], date(1939, 10, 19), "M", "PROV", "21231"),  # Dijon
)


def _demo_ins(sex: str, born: date, birthplace: str, order: int) -> str:
    """A well-formed NIR: sex, year and month of birth, birthplace (INSEE code), order, key."""
    number = f"{1 if sex == 'M' else 2}{born.year % 100:02d}{born.month:02d}{birthplace}{order:03d}"
    return number + key_of(number)


# The establishment's usual specialists: (name, first name, specialty, RPPS, email, mobile).
# Addresses in example.org (reserved, RFC 2606): a demo cart with a real relay mails no one.
PROFESSIONALS = (
    ("ROUX", "Antoine", "Dermatologie", "10003456789", "antoine.roux@example.org", "+33612345601"),
    ("PETIT", "Claire", "Cardiologie", "10004567890", "claire.petit@example.org", "+33612345602"),
    ("GARNIER", "Marc", "ORL", "10005678901", "marc.garnier@example.org", None),
    ("NGUYEN", "Linh", "Gériatrie", "10006789012", None, "+33612345604"),
)


def _slot(hours_from_now: float) -> datetime:
    moment = datetime.now(UTC) + timedelta(hours=hours_from_now)
    return moment.replace(minute=(moment.minute // 15) * 15, second=0, microsecond=0)


def is_seeded(db: Database) -> bool:
    return db.execute("SELECT 1 FROM meta WHERE key = ?", [DEMO_MARK]).fetchone() is not None


def seed(db: Database, settings: invitation.Settings) -> bool:
    """Fill an empty data directory with demo data; returns False when it was already seeded."""
    with transaction(db):
        if is_seeded(db):
            return False
        for acc in ACCOUNTS:
            if accounts.find_by_login(db, acc.login) is None:
                accounts.create_account(db, acc.login, acc.role, acc.password, acc.display_name, acc.otp_secret, created_by="demo")
        nurse = Actor("infirmiere", Role.NURSE.value, "demo")
        ids = [
            create_identity(db, NewIdentity(birth, firsts, born, sex, used, status, birth_insee=place,
                                            ins=_demo_ins(sex, born, place, order) if status in ("RECUP", "QUAL") else None), nurse).id
            for order, (birth, used, firsts, born, sex, status, place) in enumerate(RESIDENTS, start=1)
        ]
        admin = Actor("admin", Role.ADMIN.value, "demo")
        pros = [directory.add(db, dict(zip(("name", "first_name", "specialty", "rpps", "email", "mobile"), p)), admin).id
                for p in PROFESSIONALS]
        relative = {"name": "LEFEBVRE", "first_name": "Paul", "remote": True, "email": "paul.lefebvre@example.org"}
        # The running consultation began at the last quarter hour and lasts 45 min: a demo cart shown
        # (or tested) in the half hour after seeding still has it running.
        plan = (  # resident, state, reason, specialist, accompaniment, companion, slot start, minutes
            (ids[0], DossierState.IN_PROGRESS, "Plaie du talon gauche, évolution", pros[0], "relative", relative, _slot(0), 45),
            (ids[1], DossierState.SCHEDULED, "Avis sur troubles du rythme", pros[1], "alone", None, _slot(2), 30),
            (ids[2], DossierState.SCHEDULED, "Suivi escarre sacrée", pros[0], "alone", None, _slot(26), 20),
            (ids[4], DossierState.AWAITING_REPORT, "Otalgie droite", pros[2], "alone", None, _slot(-26), 20),
            (ids[6], DossierState.CLOSED, "Réévaluation du traitement antalgique", pros[3], "alone", None, _slot(-72), 30),
        )
        for patient_id, state, reason, pro, kind, companion, start, minutes in plan:
            new = dossier.NewDossier(patient_id, True, None, kind, companion, {"directory_id": pro}, start, minutes, reason)
            # Created "at" its slot, so past slots are allowed; the state is then set as history left it.
            made = dossier.create(db, new, nurse, settings, now=min(start, datetime.now(UTC)))
            db["dossiers"].update(made.id, {"state": state.value})
            if state in (DossierState.AWAITING_REPORT, DossierState.CLOSED):  # their invitations went out back then
                db.execute("UPDATE deliveries SET state = 'sent', sent_at = ? WHERE ref_id IN "
                           "(SELECT i.id FROM invitations i JOIN rooms r ON r.id = i.room_id WHERE r.dossier_id = ?)",
                           [(start - timedelta(days=1)).isoformat().replace("+00:00", "Z"), made.id])
        db["meta"].insert({"key": DEMO_MARK, "value": datetime.now(UTC).isoformat()})
    return True
