"""Pro Santé Connect: each login under way (the kiosk's, or a specialist's on their link) keeps its
state, nonce and PKCE verifier on the cart until the browser comes back (ten minutes at most, once)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    # ref: for a specialist's link, its room and token, sealed (agent/access/keys.py)
    db["psc_flows"].create({"state": str, "nonce": str, "verifier": str, "purpose": str, "ref": str, "created_at": float}, pk="state",
                           not_null={"nonce", "verifier", "purpose", "created_at"})
