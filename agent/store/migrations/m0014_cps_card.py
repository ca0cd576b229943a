"""The CPS card: an account carries the national identifier (idNat_PS) of the card that logs it
in; a session opened or unlocked by a card remembers which card (its certificate's SHA-256), so
pulling that card out locks it; the wrong PINs each card was given, so that the kiosk can say how
many tries remain even when the card's module does not."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["users"].add_column("idnat", str)
    db.execute("CREATE UNIQUE INDEX idx_users_idnat ON users (idnat) WHERE idnat IS NOT NULL")
    db["sessions"].add_column("card", str)
    db["sessions"].create_index(["card"])
    db["card_pin_failures"].create({"card": str, "failures": int, "updated_at": float}, pk="card", not_null={"failures", "updated_at"})
