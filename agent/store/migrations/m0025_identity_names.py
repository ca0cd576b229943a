"""Identity search at regional scale (issue 16): the names the identities hold, each once, so that
approaching search scores a few thousand names instead of every row sharing two letters; and
(name, first name) indexes, so that a name searched with a first name reads only the rows that
hold both.

`identity_names` holds every normalised birth, used and first name with its phonetic key and how
many times the identities hold it (`uses`, which picks the rarest word of a one-box search). The
triggers keep it in step with every write to `patients`, whoever makes it (domain functions, the
command line, a copy of the demo). An entry is never removed, only its `uses` falls to 0, so the
list an agent holds in memory (agent/identity/names.py) is brought up to date by reading what is
newer than its last entry; `tag` tells that entry apart from another one that a transaction rolled
back gave the same id."""

from sqlite_utils import Database

_NAME_COLUMNS = (("birth_name_norm", "birth_name_phon"), ("used_name_norm", "used_name_phon"),
                 ("first_name_norm", "first_name_phon"))


def _counted(name: str, phon: str, step: str) -> str:
    return (f"INSERT INTO identity_names (name, phon, uses) SELECT {name}, coalesce({phon}, ''), {step} WHERE {name} <> '' "
            f"ON CONFLICT (name, phon) DO UPDATE SET uses = uses + excluded.uses;")


def _trigger(name: str, event: str, body: list[str]) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON patients BEGIN {' '.join(body)} END"


def up(db: Database) -> None:
    db.execute("""CREATE TABLE identity_names (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        phon TEXT NOT NULL,
        uses INTEGER NOT NULL,
        tag INTEGER NOT NULL DEFAULT (random()),
        UNIQUE (name, phon))""")
    db.execute("CREATE INDEX identity_names_phon ON identity_names (phon)")
    held = " UNION ALL ".join(f"SELECT {name} AS name, coalesce({phon}, '') AS phon FROM patients" for name, phon in _NAME_COLUMNS)
    db.execute(f"INSERT INTO identity_names (name, phon, uses) SELECT name, phon, count(*) FROM ({held}) "
               "WHERE name <> '' GROUP BY name, phon ORDER BY name")
    columns = ", ".join(column for pair in _NAME_COLUMNS for column in pair)
    added = [_counted(f"NEW.{name}", f"NEW.{phon}", "1") for name, phon in _NAME_COLUMNS]
    removed = [f"UPDATE identity_names SET uses = uses - 1 WHERE name = OLD.{name} AND phon = coalesce(OLD.{phon}, '');"
               for name, phon in _NAME_COLUMNS]
    db.execute(_trigger("patients_names_insert", "INSERT", added))
    db.execute(_trigger("patients_names_update", f"UPDATE OF {columns}", removed + added))
    db.execute(_trigger("patients_names_delete", "DELETE", removed))
    for name, phon in _NAME_COLUMNS[:2]:  # a name searched with a first name: the rows holding both
        db["patients"].create_index([name, "first_name_norm"])
        db["patients"].create_index([phon, "first_name_phon"])
